/**
 * Scenario 1: one dataset, a big full snapshot of random data, then incrementals that each
 * rewrite part of it. Every contender replicates
 *   - the full (from `full`, a clone holding only that snapshot) into an empty target, and
 *   - the incrementals (from `single`) into a target seeded with the full by a bare pipeline
 *     (not timed),
 * each time into a freshly destroyed target, locally and over ssh.
 */

import path from 'node:path';
import { checkScript, shellLine } from './command.js';
import { attempt, rotate, type BenchContext, type Contender } from './context.js';
import { writeRandom } from './data.js';
import { BenchSetupError } from './errors.js';
import { progress } from './log.js';
import { bareReplicator, syncoidReplicator, zferryReplicator, type RemoteHost, type ReplicationTask } from './replicators.js';
import type { GroupSpec } from './results.js';
import { assertReplica, clearZferryCursors, destroyTree, zfs } from './zfs.js';

const MiB = 1024 * 1024;

type Phase = 'full' | 'incremental';

interface Placement {
  name: 'local' | 'ssh';
  contenders: Contender[];
}

export async function runSingleDataset(ctx: BenchContext): Promise<void> {
  const { sizes } = ctx.options;
  const chain = ctx.source.dataset('single');
  const fullOnly = ctx.source.dataset('full');
  const targets: Record<Phase, string> = { full: ctx.target.dataset('full'), incremental: ctx.target.dataset('incremental') };
  const incrementals = Array.from({ length: sizes.incrementals }, (_, i) => `i${i + 1}`);

  await prepareSources(ctx, chain, fullOnly, incrementals);
  // Also reads every source block once, so no contender meets a colder cache than another.
  const bytes = {
    full: await streamBytes(['zfs', 'send', `${fullOnly}@full`]),
    incremental: await incrementalBytes(chain, ['full', ...incrementals]),
  };
  progress(`single: streams ${(bytes.full / MiB).toFixed(0)} MiB full, ${(bytes.incremental / MiB).toFixed(0)} MiB in ${incrementals.length} incrementals`);

  const tasks: Record<Phase, ReplicationTask> = {
    full: task(fullOnly, targets.full, undefined, ['full']),
    incremental: task(chain, targets.incremental, 'full', incrementals),
  };
  // One untimed replication first: the target pool's first writes and cold caches are nobody's.
  await bareReplicator().replicate(tasks.full);
  await destroyTree(targets.full);
  const placements = buildPlacements(ctx);
  const fullMiB = `${sizes.fullMiB >= 1024 ? `${sizes.fullMiB / 1024} GiB` : `${sizes.fullMiB} MiB`}`;
  const section = `Single dataset: ${fullMiB} full, then ${incrementals.length} incrementals of ${sizes.incrementalMiB} MiB (random data)`;
  const spec = (phase: Phase | 'total', placement: Placement): GroupSpec => ({
    key: `single.${phase}.${placement.name}`,
    section,
    title:
      phase === 'full'
        ? `${fullMiB} full, ${placement.name}`
        : phase === 'incremental'
          ? `${incrementals.length} × ${sizes.incrementalMiB} MiB incr., ${placement.name}`
          : `full + incrementals, ${placement.name}`,
    baselineId: placement.contenders[0]?.replicator.id ?? '',
    bytes: phase === 'full' ? bytes.full : phase === 'incremental' ? bytes.incremental : bytes.full + bytes.incremental,
  });

  for (let rep = 0; rep < ctx.options.repeat; rep++) {
    for (const placement of placements) {
      for (const phase of ['full', 'incremental'] as const) {
        for (const contender of rotate(placement.contenders, rep)) {
          const { replicator } = contender;
          const scope = `${replicator.id} ${phase}`;
          if (ctx.failed.has(scope)) continue;
          const target = targets[phase];
          await destroyTree(target);
          await clearZferryCursors(tasks[phase].source);
          if (phase === 'incremental') await checkScript(`${shellLine(['zfs', 'send', `${chain}@full`])} | ${shellLine(['zfs', 'recv', '-u', target])}`);
          const run = await attempt(ctx, contender, scope, async () => {
            const result = await replicator.replicate(tasks[phase]);
            await assertReplica(tasks[phase].source, target);
            return result;
          });
          if (run === undefined) continue;
          ctx.results.record(spec(phase, placement), replicator, run);
          progress(`single rep ${rep + 1}/${ctx.options.repeat} ${phase} ${placement.name}: ${replicator.label} ${(run.ms / 1000).toFixed(2)} s`);
        }
      }
    }
  }
  await destroyTree(targets.full);
  await destroyTree(targets.incremental);
  recordTotals(ctx, placements, spec);
}

/** `full + incrementals` per repetition, from the two phases' runs (same repetition order). */
function recordTotals(ctx: BenchContext, placements: Placement[], spec: (phase: Phase | 'total', placement: Placement) => GroupSpec): void {
  for (const placement of placements) {
    for (const { replicator } of placement.contenders) {
      const entryOf = (phase: Phase) => ctx.results.groups.find((g) => g.key === spec(phase, placement).key)?.entries.find((e) => e.id === replicator.id);
      const full = entryOf('full');
      const incremental = entryOf('incremental');
      // Only when both phases ran every time: otherwise the repetitions do not pair up.
      if (full?.runsMs.length !== ctx.options.repeat || incremental?.runsMs.length !== ctx.options.repeat) continue;
      const withCpu = full.cpuMs.length === ctx.options.repeat && incremental.cpuMs.length === ctx.options.repeat;
      for (let i = 0; i < ctx.options.repeat; i++) {
        const ms = (full.runsMs[i] as number) + (incremental.runsMs[i] as number);
        const cpuMs = withCpu ? (full.cpuMs[i] as number) + (incremental.cpuMs[i] as number) : undefined;
        ctx.results.record(spec('total', placement), replicator, cpuMs !== undefined ? { ms, cpuMs } : { ms });
      }
    }
  }
}

function buildPlacements(ctx: BenchContext): Placement[] {
  const forPlacement = (remote: RemoteHost | undefined): Contender[] => {
    const contenders: Contender[] = [{ replicator: bareReplicator(remote ? { remote } : {}), baseline: true }];
    if (ctx.zferryCli !== undefined) contenders.push({ replicator: zferryReplicator({ cli: ctx.zferryCli, ...(remote ? { remote } : {}) }), baseline: false });
    const syncoidHost = remote ? (ctx.syncoidRemote ?? remote) : undefined;
    if (!ctx.options.skipSyncoid) contenders.push({ replicator: syncoidReplicator(syncoidHost ? { remote: syncoidHost } : {}), baseline: false });
    return contenders;
  };
  const placements: Placement[] = [{ name: 'local', contenders: forPlacement(undefined) }];
  if (ctx.remote) placements.push({ name: 'ssh', contenders: forPlacement(ctx.remote) });
  return placements;
}

function task(source: string, target: string, base: string | undefined, send: string[]): ReplicationTask {
  return { source, target, recursive: false, work: [{ source, target, ...(base !== undefined ? { base } : {}), send }] };
}

async function prepareSources(ctx: BenchContext, chain: string, fullOnly: string, incrementals: string[]): Promise<void> {
  const { sizes } = ctx.options;
  const mountpoint = ctx.source.mountpoint;
  if (mountpoint === undefined) throw new BenchSetupError('the source pool must be mounted to write data');
  const file = path.join(mountpoint, 'single', 'data.bin');
  progress(`single: writing ${sizes.fullMiB} MiB of random data`);
  await zfs('create', chain);
  await writeRandom(file, sizes.fullMiB * MiB);
  await zfs('snapshot', `${chain}@full`);
  // Each incremental rewrites its own region of the file, spread over the whole file.
  const stride = Math.floor(sizes.fullMiB / incrementals.length) * MiB;
  for (const [index, name] of incrementals.entries()) {
    await writeRandom(file, sizes.incrementalMiB * MiB, index * stride);
    await zfs('snapshot', `${chain}@${name}`);
  }
  // A clone with one snapshot: the full phase's source, sharing the chain's blocks (no extra space).
  await zfs('clone', `${chain}@full`, fullOnly);
  await zfs('snapshot', `${fullOnly}@full`);
}

async function streamBytes(send: string[]): Promise<number> {
  const result = await checkScript(`${shellLine(send)} | wc -c`);
  const bytes = Number(result.stdout.trim());
  if (!Number.isFinite(bytes) || bytes <= 0) throw new BenchSetupError(`${send.join(' ')} produced no stream`);
  return bytes;
}

async function incrementalBytes(filesystem: string, chain: string[]): Promise<number> {
  let total = 0;
  for (let i = 1; i < chain.length; i++) total += await streamBytes(['zfs', 'send', '-i', `@${chain[i - 1]}`, `${filesystem}@${chain[i]}`]);
  return total;
}
