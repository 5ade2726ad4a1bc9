/**
 * Types shared by the `zfs` driver, the planner and the replication endpoints.
 * Guids are decimal strings: they are unsigned 64-bit and exceed 2^53, so a JS number would
 * silently corrupt them. createtxg stays a number: txgs will not reach 2^53 in practice.
 */

export type VersionType = 'snapshot' | 'bookmark';

/** One snapshot or bookmark of a filesystem. */
export interface FilesystemVersion {
  type: VersionType;
  /** The filesystem it belongs to, e.g. `tank/data`. */
  filesystem: string;
  /** The short name after `@` (snapshot) or `#` (bookmark). */
  name: string;
  /** `tank/data@name` or `tank/data#name`. */
  fullName: string;
  /** Exact unsigned 64-bit guid as a decimal string. */
  guid: string;
  createtxg: number;
  /** Creation time in seconds since the epoch. */
  creation: number;
}

/** What a pool (or the zfs build running it) can do; probed, never assumed. */
export interface ZfsCapabilities {
  bookmarks: boolean;
  /** `zfs send -t` and `zfs recv -s` with `receive_resume_token`. */
  resumable: boolean;
  sendCompressed: boolean;
  sendRaw: boolean;
  sendLargeBlocks: boolean;
  /** `zfs send -e`: embedded (tiny, compressed) blocks as stored. */
  sendEmbedded: boolean;
  /** `zfs send -n -P`: the size of a stream before sending it. */
  sendSizeEstimate: boolean;
  /** `zfs list -p` (parsable numbers). */
  listParsable: boolean;
  /** `zfs destroy fs@a,b,c` in one call. */
  batchDestroy: boolean;
  /** `zfs holds` works. */
  holds: boolean;
  /** `zfs recv -o` / `-x`. */
  receiveProperties: boolean;
  /** Several snapshots in one atomic `zfs snapshot a@s b@s` (zfs-fuse takes one). */
  multiSnapshot: boolean;
  /** `zfs get -t snapshot,bookmark` (zfs-fuse's `get` has no `-t`). */
  getTypeFilter: boolean;
  /** `zfs recv -u` (receive without mounting). */
  receiveUnmounted: boolean;
  /** Why each false capability is false, for the log. */
  reasons: Partial<Record<Exclude<keyof ZfsCapabilities, 'reasons'>, string>>;
}
