/**
 * The codes a replication endpoint's handlers fail with, and what each means. A remote caller
 * gets them as RPC_REMOTE with this `remoteCode`. contract.ts declares which endpoint can fail
 * with which; docs/endpoints.md lists both (generated).
 */
export const ENDPOINT_ERROR_CODES = {
  ENDPOINT_OUTSIDE_ROOT:
    "a dataset the request names, or that its resume token would send, is outside the roots the endpoint serves (`zferry serve --root`, a client's `root_fs/<identity>`) or not selected by a source's filter; a confined endpoint also refuses malformed or option-like names, cursor tags that are not zferry's, and a rename aside leaving its root",
  ENDPOINT_RESUME_TOKEN_UNREADABLE: 'the resume token cannot be decoded; an endpoint serving roots must see what a token sends, so it refuses it',
  ENDPOINT_RESUME_TOKEN_MISMATCH: 'the resume token would send another snapshot than the request names (another name, or another guid under that name)',
  ENDPOINT_TARGET_NOT_EMPTY:
    'a full receive with `force` would overwrite a filesystem that has no snapshots but holds data, or a placeholder with something other than placeholders below it',
  ENDPOINT_ROLLBACK_MISMATCH: 'the snapshot to roll back to is missing or has another guid than expected',
  ENDPOINT_CURSOR_OUTSIDE_TREE: 'a cursor move names a filesystem that is not within the `root` it gives',
  ENDPOINT_POOL_NOT_FOUND: 'the pool a target would be created or received in does not exist (zfs never creates a pool)',
  ENDPOINT_PARENT_NOT_FOUND: "a full receive's target has no parent filesystem (zfs would only say `dataset does not exist`)",
  ENDPOINT_SERVED_ROOT_NOT_FOUND: "the serving sink's `root_fs` does not exist on its host: nothing can be received below it until it is created",
  ZFS_INVALID_NAME: 'a name, tag, guid or token the zfs driver refuses before running zfs',
  ZFS_DATASET_NOT_FOUND: 'a dataset, snapshot or pool does not exist',
  ZFS_DESTINATION_EXISTS: 'the dataset or snapshot to create already exists',
  ZFS_TARGET_MODIFIED: 'the receive target changed since its most recent snapshot',
  ZFS_INCREMENTAL_MISMATCH: "the incremental base does not match (not the target's latest snapshot, or not an earlier snapshot of the same filesystem)",
  ZFS_INCREMENTAL_SOURCE_MISSING: 'the incremental base is missing (on the sender, or no snapshot with its guid on the receive target)',
  ZFS_PARTIAL_RECEIVE_STATE: 'the target keeps the partial state of an interrupted resumable receive: resume it or abort it',
  ZFS_INVALID_STREAM: 'the received byte stream is not a valid, complete zfs send stream',
  ZFS_OUT_OF_SPACE: 'the pool is out of space or a quota was reached',
  ZFS_DATASET_BUSY: 'the dataset is busy (e.g. an unmount failed)',
  ZFS_PERMISSION_DENIED: 'the serving user may not run this zfs command',
  ZFS_DAEMON_NOT_RUNNING: 'ZFS is not available on the serving host (no kernel module or zfs-fuse daemon)',
  ZFS_UNSUPPORTED: "the serving host's zfs or pool lacks a requested feature (a stream option, resumable receive, …)",
  ZFS_RECEIVE_UNVERIFIED: 'zfs recv finished but the expected snapshot (by guid) is not on the target',
  ZFS_ABORTED: 'the zfs command was stopped: the call was cancelled, or the byte stream feeding it failed',
  ZFS_UNKNOWN: "zfs failed with a message the driver does not recognise (the message carries zfs's own words)",
} as const satisfies Record<string, string>;

export type EndpointErrorCode = keyof typeof ENDPOINT_ERROR_CODES;

/** What any handler may fail with: the root check, name validation, and zfs being unusable or failing oddly. */
export const COMMON_ENDPOINT_ERRORS = [
  'ENDPOINT_OUTSIDE_ROOT',
  'ZFS_INVALID_NAME',
  'ZFS_PERMISSION_DENIED',
  'ZFS_DAEMON_NOT_RUNNING',
  'ZFS_UNKNOWN',
] as const satisfies readonly EndpointErrorCode[];

/** The common errors and `specific` ones, as an endpoint's `errors` declaration. */
export function endpointErrors(...specific: EndpointErrorCode[]): readonly EndpointErrorCode[] {
  return [...COMMON_ENDPOINT_ERRORS, ...specific];
}
