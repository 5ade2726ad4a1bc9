/**
 * Scenario 2: a tree of small datasets (a root and N children), each with several snapshots.
 *   - initial: replicate the whole tree into an empty target;
 *   - steady: what a cron job sees afterwards: one new snapshot in every dataset, sent
 *     incrementally onto the state the same contender left;
 *   - no-op: the same job run again with nothing to send (tools that plan for themselves).
 * The baseline is a shell script of sequential bare pipelines that knows the names already.
 */

import path from 'node:path';
import { attempt, rotate, type BenchContext, type Contender } from './context.js';
import { writeRandom } from './data.js';
import { BenchSetupError } from './errors.js';
import type { BenchSizes } from './options.js';
import type { BenchPool } from './pools.js';
import { progress } from './log.js';
import { profileSteadyState } from './profile.js';
import { bareReplicator, syncoidReplicator, zferryReplicator, type ReplicationTask } from './replicators.js';
import type { GroupSpec } from './results.js';
import { assertReplica, clearZferryCursors, datasetExists, destroyTree, zfs, zfsRetryBusy } from './zfs.js';

const KiB = 1024;
/** The snapshot that the steady state adds on top of the initial ones. */
const STEADY_SNAPSHOT = 'steady';

export interface TreeContender extends Contender {
  /** Plans for itself, so running it again with nothing to send means something. */
  plans: boolean;
}

export interface Tree {
  root: string;
  target: string;
  /** Root first, then the children: source names. */
  filesystems: string[];
  snapshots: string[];
}

export async function runDatasetTree(ctx: BenchContext): Promise<void> {
  const { sizes } = ctx.options;
  const tree = await prepareTree(ctx);
  const contenders = buildContenders(ctx);
  const section = `Tree: ${sizes.treeDatasets} datasets + root, ${sizes.treeSnapshots} snapshots each of ${sizes.treeFileKiB} KiB (local)`;
  const count = tree.filesystems.length;
  const specs = {
    initial: { key: 'tree.initial', section, title: `initial, ${count} fs × ${sizes.treeSnapshots} snaps`, baselineId: 'bare' },
    steady: { key: 'tree.steady', section, title: `steady: +1 snapshot in ${count} fs`, baselineId: 'bare' },
    noop: { key: 'tree.noop', section, title: 'no-op: nothing to send' },
  } satisfies Record<string, GroupSpec>;

  for (let rep = 0; rep < ctx.options.repeat; rep++) {
    for (const contender of rotate(contenders, rep)) {
      const { replicator } = contender;
      const scope = `${replicator.id} tree`;
      if (ctx.failed.has(scope)) continue;
      const label = `tree rep ${rep + 1}/${ctx.options.repeat}: ${replicator.label}`;
      await resetTree(tree);
      const initial = await attempt(ctx, contender, scope, async () => {
        const run = await replicator.replicate(initialTask(tree));
        await assertReplica(tree.root, tree.target);
        return run;
      });
      if (initial === undefined) continue;
      ctx.results.record(specs.initial, replicator, initial);

      await addSteadySnapshot(ctx, tree);
      const steady = await attempt(ctx, contender, scope, async () => {
        const run = await replicator.replicate(steadyTask(tree));
        await assertReplica(tree.root, tree.target);
        return run;
      });
      if (steady === undefined) continue;
      ctx.results.record(specs.steady, replicator, steady);

      let noopText = '';
      if (contender.plans) {
        const noop = await attempt(ctx, contender, `${replicator.id} tree no-op`, () => replicator.replicate(steadyTask(tree)));
        if (noop !== undefined) {
          ctx.results.record(specs.noop, replicator, noop);
          noopText = `, no-op ${(noop.ms / 1000).toFixed(2)} s`;
        }
      }
      progress(`${label}: initial ${(initial.ms / 1000).toFixed(2)} s, steady ${(steady.ms / 1000).toFixed(2)} s${noopText}`);
    }
  }

  if (!ctx.options.skipProfile) {
    await profileSteadyState(ctx, tree, contenders, { reset: () => resetTree(tree), initialTask, steadyTask, addSteadySnapshot });
  }
  await resetTree(tree);
}

function buildContenders(ctx: BenchContext): TreeContender[] {
  const contenders: TreeContender[] = [
    { replicator: bareReplicator(), baseline: true, plans: false },
    { replicator: bareReplicator({ batch: true }), baseline: false, plans: false },
  ];
  if (ctx.zferryCli !== undefined) {
    const cli = ctx.zferryCli;
    contenders.push(
      { replicator: zferryReplicator({ cli, jobs: 1 }), baseline: false, plans: true },
      { replicator: zferryReplicator({ cli, jobs: 4 }), baseline: false, plans: true },
      { replicator: zferryReplicator({ cli, jobs: 4, batch: true }), baseline: false, plans: true },
    );
  }
  if (!ctx.options.skipSyncoid) contenders.push({ replicator: syncoidReplicator(), baseline: false, plans: true });
  return contenders;
}

export function initialTask(tree: Tree): ReplicationTask {
  return {
    source: tree.root,
    target: tree.target,
    recursive: true,
    work: tree.filesystems.map((source) => ({ source, target: targetOf(tree, source), send: tree.snapshots })),
  };
}

export function steadyTask(tree: Tree): ReplicationTask {
  const base = tree.snapshots.at(-1) as string;
  return {
    source: tree.root,
    target: tree.target,
    recursive: true,
    work: tree.filesystems.map((source) => ({ source, target: targetOf(tree, source), base, send: [STEADY_SNAPSHOT] })),
  };
}

function targetOf(tree: Tree, source: string): string {
  return `${tree.target}${source.slice(tree.root.length)}`;
}

/** The state before a contender's initial run: no target, no steady snapshot, no cursors. */
async function resetTree(tree: Tree): Promise<void> {
  await destroyTree(tree.target);
  await clearZferryCursors(tree.root);
  if (await datasetExists(`${tree.root}@${STEADY_SNAPSHOT}`)) await zfsRetryBusy('destroy', '-r', `${tree.root}@${STEADY_SNAPSHOT}`);
}

/** A fresh file in every dataset, then one atomic recursive snapshot. */
async function addSteadySnapshot(ctx: BenchContext, tree: Tree): Promise<void> {
  await snapshotTree(ctx.source, tree, STEADY_SNAPSHOT, ctx.options.sizes.treeFileKiB);
}

/** What a tree is made of: children below its root, snapshots each, data per snapshot. */
export type TreeSizes = Pick<BenchSizes, 'treeDatasets' | 'treeSnapshots' | 'treeFileKiB'>;

/**
 * Writes `<snapshot>.bin` (`fileKiB` of random data; rewritten when it exists) into every
 * filesystem of the tree, then takes `@snapshot` on all of them in one atomic `zfs snapshot -r`.
 */
export async function snapshotTree(source: BenchPool, tree: Tree, snapshot: string, fileKiB: number): Promise<void> {
  for (const filesystem of tree.filesystems) {
    await writeRandom(path.join(mountpointOf(source, filesystem), `${snapshot}.bin`), fileKiB * KiB);
  }
  await zfs('snapshot', '-r', `${tree.root}@${snapshot}`);
}

function mountpointOf(source: BenchPool, filesystem: string): string {
  const poolMount = source.mountpoint;
  if (poolMount === undefined) throw new BenchSetupError('the source pool must be mounted to write data');
  return path.join(poolMount, filesystem.slice(source.name.length + 1));
}

function prepareTree(ctx: BenchContext): Promise<Tree> {
  return createTree(ctx.source, ctx.target.dataset('tree'), ctx.options.sizes);
}

/**
 * `<source pool>/tree` with `treeDatasets` children (d00, d01, …), each with `treeSnapshots`
 * snapshots (t1, t2, …) of `treeFileKiB` each; `target` is where contenders replicate it to.
 */
export async function createTree(source: BenchPool, target: string, sizes: TreeSizes): Promise<Tree> {
  const root = source.dataset('tree');
  const children = Array.from({ length: sizes.treeDatasets }, (_, i) => `${root}/d${String(i).padStart(2, '0')}`);
  const tree: Tree = {
    root,
    target,
    filesystems: [root, ...children],
    snapshots: Array.from({ length: sizes.treeSnapshots }, (_, i) => `t${i + 1}`),
  };
  progress(`tree: creating ${children.length} datasets with ${tree.snapshots.length} snapshots each`);
  await zfs('create', root);
  for (const child of children) await zfs('create', child);
  for (const snapshot of tree.snapshots) await snapshotTree(source, tree, snapshot, sizes.treeFileKiB);
  return tree;
}
