import type { FilesystemVersion } from '../zfs/types.js';
import type { Step } from './types.js';

/**
 * Incremental steps from `base` through every snapshot of `targets` (selected, newer than base,
 * oldest first). `senderSnapshots` is every source snapshot, oldest first, selected or not.
 *
 * Without batching: one `-i` per target. With batching, a `-I` step grows only while the next
 * target is the very next source snapshot, because `send -I` carries every snapshot in between
 * and would otherwise send snapshots the filters left out. Where an unselected snapshot sits
 * between two targets, a plain `-i` jumps over it and a new batch starts from there. A bookmark
 * base only takes `-i` (`send -I` from a bookmark is refused by zfs).
 */
export function incrementalSteps(
  base: FilesystemVersion,
  targets: readonly FilesystemVersion[],
  senderSnapshots: readonly FilesystemVersion[],
  batch: boolean,
): Step[] {
  const positionByGuid = new Map(senderSnapshots.map((v, i) => [v.guid, i]));
  const steps: Step[] = [];
  let previous = base;
  let open: Step | undefined;
  // The open step spans only consecutive source snapshots from a snapshot base, so `-I` is exact.
  let openIsContiguous = false;
  for (const target of targets) {
    if (open !== undefined && openIsContiguous && isNextSnapshot(open.to, target, positionByGuid)) {
      open.to = target;
      open.snapshots.push(target);
      open.intermediates = true;
    } else {
      if (open !== undefined) steps.push(open);
      open = { from: previous, to: target, intermediates: false, snapshots: [target] };
      openIsContiguous = batch && previous.type === 'snapshot' && isNextSnapshot(previous, target, positionByGuid);
    }
    previous = target;
  }
  if (open !== undefined) steps.push(open);
  return steps;
}

function isNextSnapshot(current: FilesystemVersion, candidate: FilesystemVersion, positionByGuid: ReadonlyMap<string, number>): boolean {
  const at = positionByGuid.get(current.guid);
  return at !== undefined && positionByGuid.get(candidate.guid) === at + 1;
}

/** A fresh replication of `selected` (oldest first, non-empty) by the initial policy. */
export function initialSteps(
  selected: readonly FilesystemVersion[],
  senderSnapshots: readonly FilesystemVersion[],
  policy: 'all' | 'most-recent',
  batch: boolean,
): Step[] {
  const first = policy === 'all' ? selected[0] : selected[selected.length - 1];
  if (first === undefined) return [];
  const full: Step = { to: first, intermediates: false, snapshots: [first] };
  if (policy === 'most-recent') return [full];
  return [full, ...incrementalSteps(first, selected.slice(1), senderSnapshots, batch)];
}
