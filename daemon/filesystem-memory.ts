/**
 * What a job remembers of each filesystem across its invocations, for status: the newest
 * snapshot known to be on the target, the last error (kept until that filesystem succeeds),
 * and how its last run stood.
 */
import type { FilesystemResult, FilesystemStatus } from '../replication/job/types.js';
import type { FilesystemStatusView } from './status-types.js';

interface Remembered {
  target: string;
  lastReplicated?: { snapshot: string; at: number };
  lastError?: { code: string; message: string; at: number };
  /** How its last run ended (its live status at the end). */
  last?: FilesystemStatus;
}

export class FilesystemMemory {
  readonly #filesystems = new Map<string, Remembered>();

  get size(): number {
    return this.#filesystems.size;
  }

  /** A run's results and final statuses: what replicated, what failed. */
  record(results: readonly FilesystemResult[], finalStatuses: readonly FilesystemStatus[], at: number): void {
    const statuses = new Map(finalStatuses.map((status) => [status.source, status]));
    for (const result of results) {
      const entry: Remembered = this.#filesystems.get(result.source) ?? { target: result.target };
      entry.target = result.target;
      const status = statuses.get(result.source);
      if (status !== undefined) entry.last = status;
      const base = status?.base;
      if (base !== undefined) {
        // The snapshot's own creation time where known: its age is what an admin wants to see.
        entry.lastReplicated = { snapshot: base.snapshot, at: base.creation > 0 ? base.creation * 1000 : at };
      }
      if (result.outcome === 'failed' && result.error !== undefined) entry.lastError = { ...result.error, at };
      else if (result.outcome === 'replicated' || result.outcome === 'up-to-date') delete entry.lastError;
      this.#filesystems.set(result.source, entry);
    }
  }

  /** Each filesystem's newest replicated snapshot (creation, ms), for the rpo. */
  newest(): Array<{ source: string; newestAt?: number }> {
    return [...this.#filesystems].map(([source, entry]) => ({ source, ...(entry.lastReplicated !== undefined ? { newestAt: entry.lastReplicated.at } : {}) }));
  }

  /** The views: live statuses where given (the running invocation), else the remembered ones. */
  views(live: readonly FilesystemStatus[], now: number): FilesystemStatusView[] {
    const liveBySource = new Map(live.map((status) => [status.source, status]));
    const sources = [...new Set([...live.map((status) => status.source), ...this.#filesystems.keys()])];
    return sources.flatMap((source) => {
      const entry = this.#filesystems.get(source);
      const status = liveBySource.get(source) ?? entry?.last;
      if (status === undefined && entry === undefined) return [];
      return [viewOf(source, status, entry, now)];
    });
  }
}

function viewOf(source: string, status: FilesystemStatus | undefined, entry: Remembered | undefined, now: number): FilesystemStatusView {
  const current = status?.current;
  const bytesTotal = current?.estimate?.bytes;
  const rate = status?.rate ?? 0;
  const left = bytesTotal !== undefined && current !== undefined ? Math.max(0, bytesTotal - current.bytes) : undefined;
  return {
    source,
    target: status?.target ?? entry?.target ?? '',
    state: status?.state ?? 'pending',
    ...(current !== undefined ? { step: current.name, stepBytes: current.bytes } : {}),
    stepsDone: status?.stepsDone ?? 0,
    stepsTotal: status?.steps.length ?? 0,
    bytes: status?.bytes ?? 0,
    ...(bytesTotal !== undefined ? { bytesTotal } : {}),
    rate,
    ...(left !== undefined && rate > 0 ? { etaSeconds: Math.round(left / rate) } : {}),
    ...(entry?.lastReplicated !== undefined
      ? {
          lastReplicated: {
            snapshot: entry.lastReplicated.snapshot,
            at: new Date(entry.lastReplicated.at).toISOString(),
            ageSeconds: Math.max(0, Math.round((now - entry.lastReplicated.at) / 1000)),
          },
        }
      : {}),
    ...(entry?.lastError !== undefined
      ? { lastError: { code: entry.lastError.code, message: entry.lastError.message, at: new Date(entry.lastError.at).toISOString() } }
      : {}),
  };
}
