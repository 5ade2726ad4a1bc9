/**
 * Which snapshots a job owns: the only ones it replicates and prunes, so snapshots made by hand
 * (or by another tool) are neither sent nor destroyed unless the user says so (zrepl#403).
 *
 * - A job whose snapshotting has a prefix (periodic, cron) owns the snapshots named with it,
 *   plus those its `snapshots.include` globs name (push, pull): that is how the user says so.
 * - A job without a prefix (snapshotting manual, pull, sink) owns every snapshot its
 *   `snapshots.include` globs name; no include globs: every snapshot (it replicates what exists).
 * - `snapshots.exclude` wins over both.
 */
import type { JobConfig } from '../config/types.js';
import { createSnapshotSelector, type SnapshotFilter } from '../replication/planner/glob.js';

/** The job's snapshot prefix, if it takes snapshots. */
export function snapshotPrefixOf(job: JobConfig): string | undefined {
  if (!('snapshotting' in job)) return undefined;
  return job.snapshotting.type === 'manual' ? undefined : job.snapshotting.prefix;
}

/**
 * The job's ownership as include/exclude globs on short names (replication/planner/glob.ts):
 * what the replication planner is handed. A prefix becomes the glob `PREFIX*` (a prefix holds
 * none of glob's special characters: config/names.ts).
 */
export function ownedSnapshotGlobs(job: JobConfig): { include: string[]; exclude: string[] } {
  const globs = 'replication' in job ? job.replication.snapshots : { include: [], exclude: [] };
  const prefix = snapshotPrefixOf(job);
  const include = prefix === undefined ? [...globs.include] : [`${prefix}*`, ...globs.include];
  return { include, exclude: [...globs.exclude] };
}

/** Whether `job` owns the snapshot named `shortName` (the part after `@`). */
export function ownsSnapshot(job: JobConfig, shortName: string): boolean {
  return ownershipOf(job)(shortName);
}

/** The same as a predicate, built once for many names. */
export function ownershipOf(job: JobConfig): (shortName: string) => boolean {
  const filter: SnapshotFilter = ownedSnapshotGlobs(job);
  return createSnapshotSelector(filter);
}
