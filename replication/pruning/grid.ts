/**
 * zrepl's retention grid: the grid is laid back in time from the newest snapshot it sees (its
 * anchor, not the clock, so a daemon that was down does not wipe the past). Bucket i covers
 * the ages [start_i, start_i + length_i) before the anchor: left-inclusive, so a snapshot
 * exactly one bucket length old falls in the second bucket, and one exactly as old as the whole
 * grid falls outside it. Each bucket keeps its `keep` oldest snapshots (or all); snapshots
 * outside every bucket are not kept. Pure.
 */
import { KEEP_ALL, type GridBucket, type GridSpec } from './grid-spec.js';

export interface GridEntry {
  /** Seconds since the epoch, as zfs reports `creation`. */
  creation: number;
  createtxg: number;
}

/** Oldest first: by creation, then createtxg (one second can hold several snapshots). */
export function compareOldestFirst(a: GridEntry, b: GridEntry): number {
  return a.creation - b.creation || a.createtxg - b.createtxg;
}

/** The bucket an age falls in (binary search over the bucket starts), or undefined past the grid's end. */
export function bucketIndexOf(grid: GridSpec, ageMs: number): number | undefined {
  const { buckets } = grid;
  const last = buckets[buckets.length - 1];
  if (ageMs < 0 || last === undefined || ageMs >= last.startMs + last.lengthMs) return undefined;
  let low = 0;
  let high = buckets.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((buckets[middle] as GridBucket).startMs <= ageMs) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * The entries the grid keeps, each with the index of its bucket in `grid.buckets`; entries
 * not in the map are not kept by this grid. The anchor is the newest entry's creation.
 */
export function fitGrid<T extends GridEntry>(grid: GridSpec, entries: readonly T[]): Map<T, number> {
  const kept = new Map<T, number>();
  if (entries.length === 0) return kept;
  const anchorMs = entries.reduce((newest, entry) => Math.max(newest, entry.creation), -Infinity) * 1000;
  const byBucket = new Map<number, T[]>();
  for (const entry of entries) {
    const index = bucketIndexOf(grid, anchorMs - entry.creation * 1000);
    if (index === undefined) continue;
    const members = byBucket.get(index);
    if (members === undefined) byBucket.set(index, [entry]);
    else members.push(entry);
  }
  for (const [index, members] of byBucket) {
    const keep = (grid.buckets[index] as GridBucket).keep;
    const oldestFirst = [...members].sort(compareOldestFirst);
    for (const entry of keep === KEEP_ALL ? oldestFirst : oldestFirst.slice(0, keep)) kept.set(entry, index);
  }
  return kept;
}
