/**
 * One invocation of a snap job: a snapshot of every filesystem its filter selects, under one
 * name (prefix + UTC time). Where a filter root's whole subtree is selected it is one recursive
 * snapshot (`zfs snapshot -r`, atomic across the subtree); the other selected filesystems are
 * named one by one, in the same call. Pruning arrives with the pruning issue.
 */
import type { Logger } from 'pino';
import type { SnapJob } from '../config/types.js';
import type { EndpointOpener } from '../replication/endpoint/open.js';
import { describeError } from '../replication/job/errors.js';
import { isAtOrBelow } from '../replication/zfs/names.js';
import type { FilesystemStatus } from '../replication/job/types.js';
import type { JobInvocation } from './daemon-job.js';
import type { InvocationResult, Trigger } from './invocation.js';
import { selectionOf } from './selection.js';
import { daemonSnapshotName } from './snapshot-name.js';

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
    const { job, logger } = this.#options;
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
    const name = daemonSnapshotName(job.snapshotting.prefix, new Date(this.startedAt), job.snapshotting.timestampFormat);
    const selection = selectionOf(job.filesystems);
    const side = this.#options.opener.open({ kind: 'local', dataset: selection.roots[0]?.root ?? '' });
    const call = { signal: this.#controller.signal };
    try {
      const recursive: string[] = [];
      const single: string[] = [];
      for (const { root, recursive: subtree } of selection.roots) {
        const listing = await side.client.listVersionTree({ root, recursive: subtree }, call);
        if (!listing.exists) {
          logger.warn({ filesystem: root }, 'filter root does not exist: nothing to snapshot there');
          continue;
        }
        const names = listing.filesystems.map((fs) => fs.name).filter((fs) => isAtOrBelow(fs, root));
        const selected = names.filter((fs) => selection.selects(fs));
        if (selected.length === names.length && selected.length > 0) recursive.push(`${root}@${name}`);
        else single.push(...selected.map((fs) => `${fs}@${name}`));
      }
      if (recursive.length > 0) await side.client.snapshot({ snapshots: recursive, recursive: true }, call);
      if (single.length > 0) await side.client.snapshot({ snapshots: single, recursive: false }, call);
      logger.info({ snapshot: name, recursive, single: single.length }, 'snapshots taken');
      return ended('ok');
    } catch (error) {
      if (this.#controller.signal.aborted) return ended('interrupted');
      const described = describeError(error);
      logger.error({ err: error }, 'snapshotting failed');
      return ended('failed', described);
    } finally {
      await side.close();
    }
  }
}
