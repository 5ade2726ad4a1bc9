import type { FilesystemVersion } from '../zfs/types.js';

/** Compares unsigned decimal strings without converting them to (lossy) numbers. */
function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Oldest first by createtxg. A bookmark shares its snapshot's createtxg; the snapshot sorts
 * first. Guid and name break any remaining tie so the order never depends on input order.
 */
export function compareVersions(a: FilesystemVersion, b: FilesystemVersion): number {
  if (a.createtxg !== b.createtxg) return a.createtxg - b.createtxg;
  if (a.type !== b.type) return a.type === 'snapshot' ? -1 : 1;
  const byGuid = compareDecimal(a.guid, b.guid);
  if (byGuid !== 0) return byGuid;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function sortVersions(versions: readonly FilesystemVersion[]): FilesystemVersion[] {
  return [...versions].sort(compareVersions);
}

/** The snapshots among `versions`, oldest first. */
export function snapshotsOf(versions: readonly FilesystemVersion[]): FilesystemVersion[] {
  return sortVersions(versions.filter((v) => v.type === 'snapshot'));
}

export function newerThan(sorted: readonly FilesystemVersion[], createtxg: number): FilesystemVersion[] {
  return sorted.filter((v) => v.createtxg > createtxg);
}

export interface CommonVersion {
  /** The source's version: a snapshot, or a bookmark when the snapshot itself is gone. */
  sender: FilesystemVersion;
  /** The target's snapshot with the same guid. */
  receiver: FilesystemVersion;
}

/**
 * The newest version (by the source's createtxg) whose guid the target has as a snapshot.
 * A snapshot is preferred over a bookmark of it: only a snapshot can start a `send -I`.
 */
export function findNewestCommon(sender: readonly FilesystemVersion[], receiverSnapshots: readonly FilesystemVersion[]): CommonVersion | undefined {
  const receiverByGuid = new Map(receiverSnapshots.map((v) => [v.guid, v]));
  let best: CommonVersion | undefined;
  for (const version of sender) {
    const receiver = receiverByGuid.get(version.guid);
    if (receiver === undefined) continue;
    if (
      best === undefined ||
      version.createtxg > best.sender.createtxg ||
      (version.createtxg === best.sender.createtxg && version.type === 'snapshot' && best.sender.type === 'bookmark')
    ) {
      best = { sender: version, receiver };
    }
  }
  return best;
}

/** `@name` or `#name`: how a version is shown next to its filesystem. */
export function shortName(version: FilesystemVersion): string {
  return (version.type === 'bookmark' ? '#' : '@') + version.name;
}
