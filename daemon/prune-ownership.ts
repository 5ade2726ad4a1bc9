/**
 * Which snapshots a job may destroy: those its snapshotting names (its `prefix`), so hand-made
 * snapshots survive its pruning. A job without a prefix (manual snapshotting, a pull over ssh)
 * owns every snapshot. A pull from a local source owns what the source's snapshotting names.
 * One small function on purpose: ownership by regex replaces it.
 */
import type { JobConfig, SnapshottingConfig } from '../config/types.js';
import type { Listeners } from './job-plan.js';

function prefixOf(snapshotting: SnapshottingConfig | undefined): string | undefined {
  return snapshotting !== undefined && snapshotting.type !== 'manual' ? snapshotting.prefix : undefined;
}

export function ownsSnapshotOf(job: JobConfig, listeners: Listeners): (snapshot: string) => boolean {
  let prefix: string | undefined;
  if (job.type === 'push' || job.type === 'snap' || job.type === 'source') prefix = prefixOf(job.snapshotting);
  else if (job.type === 'pull' && job.connect.type === 'local') {
    const source = listeners.get(job.connect.listenerName);
    if (source?.type === 'source') prefix = prefixOf(source.snapshotting);
  }
  return prefix === undefined ? () => true : (snapshot) => snapshot.startsWith(prefix);
}
