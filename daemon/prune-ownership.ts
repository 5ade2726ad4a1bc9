/**
 * Which snapshots a job's pruning may destroy: the ones it owns (ownership.ts), so hand-made
 * snapshots survive it. A pull from a local source job prunes what that source owns: the
 * snapshots it names with its prefix.
 */
import type { JobConfig } from '../config/types.js';
import type { Listeners } from './job-plan.js';
import { ownershipOf, snapshotPrefixOf } from './ownership.js';

export function ownsSnapshotOf(job: JobConfig, listeners: Listeners): (snapshot: string) => boolean {
  if (job.type === 'pull' && job.connect.type === 'local') {
    const source = listeners.get(job.connect.listenerName);
    if (source?.type === 'source' && snapshotPrefixOf(source) !== undefined) return ownershipOf(source);
  }
  return ownershipOf(job);
}
