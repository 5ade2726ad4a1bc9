/**
 * Source and target of one job must not overlap: a target inside the source is copied into
 * itself on every run, and a target that is (or contains) the source gets receives, rollbacks,
 * renames and cursor holds meant for a replica. Only datasets of one pool can overlap, and the
 * pool's guid says which pool a side is on, whichever host or ssh alias reaches it.
 */
import { isAtOrBelow } from '../zfs/names.js';
import { OverlappingTargetError, type Overlap } from './errors.js';

/** One side of a job: its dataset, and the guid of its pool (null: that pool does not exist). */
export interface PlacedDataset {
  dataset: string;
  poolGuid: string | null;
}

/** How the target overlaps the source, or undefined when they are apart. */
export function findOverlap(source: PlacedDataset, target: PlacedDataset): Overlap | undefined {
  // A pool that does not exist holds nothing to overlap with.
  if (source.poolGuid === null || target.poolGuid === null || source.poolGuid !== target.poolGuid) return undefined;
  if (source.dataset === target.dataset) return 'same';
  if (isAtOrBelow(target.dataset, source.dataset)) return 'target-inside-source';
  if (isAtOrBelow(source.dataset, target.dataset)) return 'source-inside-target';
  return undefined;
}

/** Throws OverlappingTargetError when the target equals, contains or lies inside the source on one pool. */
export function refuseOverlap(source: PlacedDataset, target: PlacedDataset): void {
  const overlap = findOverlap(source, target);
  if (overlap !== undefined) throw new OverlappingTargetError(overlap, source.dataset, target.dataset, source.poolGuid ?? '');
}
