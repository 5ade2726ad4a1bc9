/**
 * Periodic snapshotting keeps its rhythm across restarts, as zrepl's does: the next snapshot is
 * due one interval after the newest existing snapshot carrying the job's prefix (on any of its
 * filesystems), or at once when that moment has passed or there is none. Without this a daemon
 * restarted every few minutes would snapshot at every start, and one started just after a
 * snapshot would take another at once.
 */
import type { Logger } from 'pino';
import type { JobConfig } from '../config/types.js';
import type { EndpointOpener } from '../replication/endpoint/open.js';
import { isAtOrBelow } from '../replication/zfs/names.js';
import { snapshotPrefixOf } from './ownership.js';
import { selectionOf } from './selection.js';

/**
 * The interval of the job's periodic snapshotting when its schedule is that snapshotting's
 * (snap jobs; source jobs where the daemon schedules them; push jobs without an `interval` of
 * their own); otherwise undefined.
 */
export function snapshotRhythmOf(job: JobConfig): number | undefined {
  if (job.type !== 'snap' && job.type !== 'push' && job.type !== 'source') return undefined;
  if (job.snapshotting.type !== 'periodic') return undefined;
  if (job.type === 'push' && !(job.schedule.kind === 'interval' && job.schedule.everyMs === job.snapshotting.intervalMs)) return undefined;
  return job.snapshotting.intervalMs;
}

/** When the first snapshot is due: one interval after `newestMs`, never before `now`. */
export function firstSnapshotAt(newestMs: number | undefined, intervalMs: number, now: number): number {
  return newestMs === undefined ? now : Math.max(now, newestMs + intervalMs);
}

/** The creation time (ms) of the newest snapshot with the job's prefix among its selected filesystems; undefined: none. */
export async function newestPrefixSnapshotAt(job: JobConfig, opener: EndpointOpener, logger: Logger, signal?: AbortSignal): Promise<number | undefined> {
  const prefix = snapshotPrefixOf(job);
  if (prefix === undefined || !('filesystems' in job)) return undefined;
  const selection = selectionOf(job.filesystems);
  const first = selection.roots[0]?.root;
  if (first === undefined || first === '') return undefined;
  const side = opener.open({ kind: 'local', dataset: first });
  let newest: number | undefined;
  try {
    for (const { root, recursive } of selection.roots) {
      const listing = await side.client.listVersionTree({ root, recursive }, signal !== undefined ? { signal } : {});
      for (const fs of listing.filesystems) {
        if (!isAtOrBelow(fs.name, root) || !selection.selects(fs.name)) continue;
        for (const version of fs.versions) {
          if (version.type !== 'snapshot' || !version.name.startsWith(prefix)) continue;
          const at = version.creation * 1000;
          if (newest === undefined || at > newest) newest = at;
        }
      }
    }
  } catch (error) {
    // Not knowing only costs the rhythm: snapshot at once, as a first start would.
    logger.warn({ err: error }, 'cannot list the existing snapshots: snapshotting at once');
    return undefined;
  } finally {
    await side.close();
  }
  return newest;
}
