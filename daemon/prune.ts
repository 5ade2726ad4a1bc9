/**
 * Pruning as a job applies it: which sides a job prunes with which rules, and running them.
 *   - push: `keep_sender` on the local sender, `keep_receiver` on the receiver (a local sink or
 *     the remote over ssh); pull: `keep_receiver` locally, `keep_sender` on the remote source.
 *     Each after a replication run that ended well, over the run's own connections, on the
 *     run's filesystems (its filter root, the target's names mapped back for the filter).
 *   - snap: `keep` on its filesystems, after snapshotting; a source job: `keep` on what it serves,
 *     on its snapshotting's schedule. Neither replicates, so nothing waits for a replication;
 *     the cursor holds of pulling destinations keep what they still need.
 * A side whose rule list is absent is not pruned at all. `zferry prune JOB` plans the same sides.
 */
import type { Logger } from 'pino';
import type { Client } from '../rpc/index.js';
import type { EndpointContract } from '../replication/contract.js';
import type { JobConfig, PullJob, PushJob, SnapJob, SourceJob } from '../config/types.js';
import type { DestinationIdentity } from '../replication/endpoint/identity.js';
import type { EndpointOpener } from '../replication/endpoint/open.js';
import type { EndpointSpec } from '../replication/endpoint/spec.js';
import { describeError } from '../replication/job/errors.js';
import { cursorTagsOf } from '../replication/job/move-cursors.js';
import { pruneSide, type PruneSideResult, type PruneSideSpec } from '../replication/job/prune-side.js';
import { parseKeepRules } from '../replication/pruning/index.js';
import { destinationOf } from './destination.js';
import { planReplication, type Listeners, type ReplicationPlan, type RunPlan } from './job-plan.js';
import { JobDefinitionError } from './errors.js';
import { withServedSession } from './served-plan.js';
import { ownsSnapshotOf } from './prune-ownership.js';
import { selectionOf } from './selection.js';

export type PruningJob = PushJob | PullJob | SnapJob | SourceJob;

/** One side to prune and where it is reached. */
export interface PruneSidePlan {
  endpoint: EndpointSpec;
  /** Which of a replication's two sides (its connections are reused after a run). */
  role: 'sender' | 'receiver' | 'local';
  spec: PruneSideSpec;
}

export function prunes(job: JobConfig): job is PruningJob {
  return (job.type === 'push' || job.type === 'pull' || job.type === 'snap' || job.type === 'source') && job.pruning !== undefined;
}

/** The sides of one replication run of a push or pull job. */
export function runPruneSides(
  job: PushJob | PullJob,
  plan: ReplicationPlan,
  run: RunPlan,
  destination: DestinationIdentity,
  listeners: Listeners,
  dryRun: boolean,
): PruneSidePlan[] {
  const pruning = job.pruning;
  if (pruning === undefined) return [];
  const tags = cursorTagsOf({
    name: job.name,
    destination: destination.canonical,
    ...(job.renamedFrom.length > 0 ? { formerNames: job.renamedFrom } : {}),
    formerDestinations: destination.legacy,
  });
  const ownTags = [tags.cursorTag, ...(tags.formerCursorTags ?? [])];
  const common = {
    job: job.name,
    replicates: true,
    ownTags,
    destinations: new Map(ownTags.map((tag) => [tag, destination.canonical])),
    owns: ownsSnapshotOf(job, listeners),
    dryRun,
    recursive: run.recursive,
  };
  const sides: PruneSidePlan[] = [];
  if (pruning.keepSender !== undefined) {
    sides.push({
      endpoint: plan.sender,
      role: 'sender',
      spec: { ...common, side: 'sender', root: run.source, selects: run.selects, rules: parseKeepRules(pruning.keepSender, 'keep_sender') },
    });
  }
  if (pruning.keepReceiver !== undefined) {
    // The filter speaks of the source's names: map a target name back to the one it came from.
    const selects = (filesystem: string): boolean => run.selects(`${run.source}${filesystem.slice(run.target.length)}`);
    sides.push({
      endpoint: plan.receiver,
      role: 'receiver',
      spec: { ...common, side: 'receiver', root: run.target, selects, rules: parseKeepRules(pruning.keepReceiver, 'keep_receiver') },
    });
  }
  return sides;
}

/** The `keep` sides of a snap or source job: each root of its filter, on this host. */
export function localPruneSides(job: SnapJob | SourceJob, listeners: Listeners, dryRun: boolean): PruneSidePlan[] {
  const keep = job.pruning?.keep;
  if (keep === undefined) return [];
  const rules = parseKeepRules(keep, 'keep');
  const selection = selectionOf(job.filesystems);
  return selection.roots.map(({ root, recursive }) => ({
    endpoint: { kind: 'local', dataset: root },
    role: 'local',
    spec: {
      job: job.name,
      side: 'local',
      root,
      recursive,
      selects: selection.selects,
      rules,
      replicates: false,
      ownTags: [],
      owns: ownsSnapshotOf(job, listeners),
      dryRun,
    },
  }));
}

/**
 * Every side a job prunes (what `zferry prune JOB` runs). A job replicating over tcp or tls asks
 * the served side where its filesystems are (served-plan.ts), through `opener`.
 */
export async function pruneSidesOf(
  job: PruningJob,
  listeners: Listeners,
  hostname: string,
  dryRun: boolean,
  opener?: EndpointOpener,
): Promise<PruneSidePlan[]> {
  if (job.type === 'snap' || job.type === 'source') return localPruneSides(job, listeners, dryRun);
  let plan = planReplication(job, listeners);
  if (plan.session !== undefined) {
    if (opener === undefined)
      throw new JobDefinitionError(job.name, `it replicates over ${job.connect.type}: the served side must be asked where its filesystems are`);
    plan = await withServedSession(job, plan, opener);
  }
  const sides: PruneSidePlan[] = [];
  for (const run of plan.runs) sides.push(...runPruneSides(job, plan, run, await destinationOf(plan.receiver, run.target, hostname), listeners, dryRun));
  return sides;
}

/** Told how long pruning each side took (the daemon's metrics). */
export type PruneObserver = (side: string, durationMs: number) => void;

/** Runs sides one after the other, each over its own connection. A side that cannot be reached is a failed side, not an exception. */
export async function pruneSides(
  sides: readonly PruneSidePlan[],
  opener: EndpointOpener,
  logger: Logger,
  signal?: AbortSignal,
  onPruned?: PruneObserver,
): Promise<PruneSideResult[]> {
  const results: PruneSideResult[] = [];
  for (const side of sides) {
    if (signal?.aborted === true) break;
    const opened = opener.open(side.endpoint);
    const started = performance.now();
    try {
      results.push(await pruneSide(opened.client, side.spec, logger, signal !== undefined ? { signal } : {}));
    } catch (error) {
      const described = describeError(error);
      logger.error({ side: side.spec.side, root: side.spec.root, code: described.code, err: error }, 'pruning failed');
      results.push({ side: side.spec.side, root: side.spec.root, filesystems: [], error: described });
    } finally {
      onPruned?.(side.spec.side, performance.now() - started);
      await opened.close().catch(() => undefined);
    }
  }
  return results;
}

/** A run's sides over the run's own connections (a replication just used them). */
export async function pruneOverRun(
  sides: readonly PruneSidePlan[],
  clients: { sender: Client<EndpointContract>; receiver: Client<EndpointContract> },
  logger: Logger,
  signal?: AbortSignal,
  onPruned?: PruneObserver,
): Promise<PruneSideResult[]> {
  const results: PruneSideResult[] = [];
  for (const side of sides) {
    if (signal?.aborted === true) break;
    if (side.role === 'local') continue;
    const started = performance.now();
    results.push(await pruneSide(clients[side.role], side.spec, logger, signal !== undefined ? { signal } : {}));
    onPruned?.(side.spec.side, performance.now() - started);
  }
  return results;
}

/** Whether any side or filesystem failed. */
export function pruningFailed(results: readonly PruneSideResult[]): boolean {
  return results.some((side) => side.error !== undefined || side.filesystems.some((fs) => fs.error !== undefined));
}
