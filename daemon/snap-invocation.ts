/**
 * One invocation of a snap job: its snapshot step (take-snapshots.ts), then its pruning
 * (`keep`, prune.ts). A source job with `pruning.keep` runs the same on its snapshotting's
 * schedule (zrepl#102: a source prunes its own pool, whatever the link does).
 */
import type { Logger } from 'pino';
import type { SnapJob, SourceJob } from '../config/types.js';
import type { EndpointOpener } from '../replication/endpoint/open.js';
import { describeError } from '../replication/job/errors.js';
import type { FilesystemStatus } from '../replication/job/types.js';
import type { JobInvocation } from './daemon-job.js';
import type { InvocationResult, Trigger } from './invocation.js';
import { hookFailureError, snapshotHooks } from './hooks.js';
import { localPruneSides, pruneSides, type PruneObserver } from './prune.js';
import { takeSnapshots } from './take-snapshots.js';

export interface SnapInvocationOptions {
  job: SnapJob | SourceJob;
  opener: EndpointOpener;
  logger: Logger;
  trigger: Trigger;
  now?: () => number;
  /** Told how long pruning each side took (metrics). */
  onPruned?: PruneObserver;
}

export class SnapInvocation implements JobInvocation {
  readonly trigger: Trigger;
  readonly startedAt: number;
  readonly result: Promise<InvocationResult>;
  readonly #options: SnapInvocationOptions;
  readonly #controller = new AbortController();
  readonly #clock: () => number;

  constructor(options: SnapInvocationOptions) {
    this.#options = options;
    this.trigger = options.trigger;
    this.#clock = options.now ?? Date.now;
    this.startedAt = this.#clock();
    this.result = this.#run();
  }

  get attempts(): number {
    return 1;
  }

  abort(reason: Error): void {
    this.#controller.abort(reason);
  }

  status(): { filesystems: FilesystemStatus[]; bytes: number } {
    return { filesystems: [], bytes: 0 };
  }

  async #run(): Promise<InvocationResult> {
    const { job, logger, opener } = this.#options;
    const ended = (outcome: InvocationResult['outcome'], error?: { code: string; message: string }): InvocationResult => ({
      outcome,
      attempts: 1,
      startedAt: this.startedAt,
      endedAt: this.#clock(),
      summaries: [],
      filesystems: [],
      bytes: 0,
      runErrors: [],
      ...(error !== undefined ? { error } : {}),
    });
    // A fatal pre-snapshot hook leaves its filesystems unsnapshotted and the run failed; pruning still runs.
    let hookFailure: { code: string; message: string } | undefined;
    try {
      if (job.snapshotting.type !== 'manual') hookFailure = await this.#snapshot(job.snapshotting);
    } catch (error) {
      if (this.#controller.signal.aborted) return ended('interrupted');
      logger.error({ err: error }, 'snapshotting failed');
      return ended('failed', describeError(error));
    }
    if (job.pruning?.keep === undefined) return hookFailure === undefined ? ended('ok') : ended('failed', hookFailure);
    const results = await pruneSides(localPruneSides(job, new Map(), false), opener, logger, this.#controller.signal, this.#options.onPruned);
    if (this.#controller.signal.aborted) return ended('interrupted');
    const failure = hookFailure ?? results.flatMap((side) => [side.error, ...side.filesystems.map((fs) => fs.error)]).find((error) => error !== undefined);
    return failure === undefined ? ended('ok') : ended('failed', failure);
  }

  /** Takes the job's snapshots between its snapshot hooks; the fatal hook failure, if any. */
  async #snapshot(snapshotting: Exclude<SnapJob['snapshotting'], { type: 'manual' }>): Promise<{ code: string; message: string } | undefined> {
    const { job, logger, opener } = this.#options;
    const hooks = snapshotHooks(job.name, snapshotting.hooks, { logger, signal: this.#controller.signal });
    await takeSnapshots({
      job: job.name,
      filesystems: job.filesystems,
      snapshotting,
      opener,
      logger,
      at: new Date(this.startedAt),
      signal: this.#controller.signal,
      // Only where the job has some: without, a whole subtree is snapshot without listing it.
      ...(snapshotting.hooks !== undefined && snapshotting.hooks.length > 0 ? { hooks } : {}),
    });
    return hookFailureError(hooks.fatalFailures);
  }
}
