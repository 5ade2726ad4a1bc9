/**
 * One invocation of a snap job: its snapshot step (take-snapshots.ts). Pruning arrives with
 * the pruning issue.
 */
import type { Logger } from 'pino';
import type { SnapJob } from '../config/types.js';
import type { EndpointOpener } from '../replication/endpoint/open.js';
import { describeError } from '../replication/job/errors.js';
import type { FilesystemStatus } from '../replication/job/types.js';
import type { JobInvocation } from './daemon-job.js';
import type { InvocationResult, Trigger } from './invocation.js';
import { hookFailureError, snapshotHooks } from './hooks.js';
import { takeSnapshots } from './take-snapshots.js';

export interface SnapInvocationOptions {
  job: SnapJob;
  opener: EndpointOpener;
  logger: Logger;
  trigger: Trigger;
  now?: () => number;
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
    if (job.snapshotting.type === 'manual') return ended('ok');
    const hooks = snapshotHooks(job.name, job.snapshotting.hooks, { logger, signal: this.#controller.signal });
    try {
      await takeSnapshots({
        job: job.name,
        filesystems: job.filesystems,
        snapshotting: job.snapshotting,
        opener,
        logger,
        at: new Date(this.startedAt),
        signal: this.#controller.signal,
        // Only where the job has some: without, a whole subtree is snapshot without listing it.
        ...(job.snapshotting.hooks !== undefined && job.snapshotting.hooks.length > 0 ? { hooks } : {}),
      });
      const hookFailure = hookFailureError(hooks.fatalFailures);
      return hookFailure === undefined ? ended('ok') : ended('failed', hookFailure);
    } catch (error) {
      if (this.#controller.signal.aborted) return ended('interrupted');
      logger.error({ err: error }, 'snapshotting failed');
      return ended('failed', describeError(error));
    }
  }
}
