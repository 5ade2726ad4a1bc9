/**
 * The RPC contract of a replication endpoint: what a job asks of the side that holds a pool.
 * One contract serves both roles (sender and receiver), so `zferry serve` registers it once
 * and a push, a pull and a same-host job all talk to it the same way.
 *
 * Responses are validated on the caller's side too: a remote may be hostile, so every name it
 * returns must look like a dataset name (never an option) before anything uses it.
 */

import { z } from 'zod';
import { defineContract, endpoint } from '../rpc/index.js';
import { endpointErrors } from './error-codes.js';
import { FILESYSTEM_NAME_PATTERN, MAX_NAME_LENGTH, SHORT_NAME_PATTERN } from './zfs/names.js';

/** Dataset names by the rules of zfs/names.ts, the ones the driver checks again before zfs runs. */
export const filesystemName = z.string().min(1).max(MAX_NAME_LENGTH).regex(FILESYSTEM_NAME_PATTERN, 'not a valid filesystem name').meta({
  id: 'FilesystemName',
  description: 'a filesystem name, `pool/a/b`: the pool name begins with a letter; no other component is `.` or `..` or begins with `-` or a space',
});
export const shortName = z
  .string()
  .min(1)
  .max(MAX_NAME_LENGTH)
  .regex(SHORT_NAME_PATTERN, 'not a valid snapshot name')
  .meta({ id: 'ShortName', description: 'the part of a snapshot or bookmark name after `@` or `#`: not `.` or `..`, never beginning with `-` or a space' });
export const guid = z
  .string()
  .regex(/^[0-9]{1,20}$/, 'guid must be a decimal string')
  .meta({ id: 'Guid', description: 'a ZFS guid: an unsigned 64-bit integer in decimal (a string: it does not fit a double)' });
export const snapshotName = z
  .string()
  .max(255)
  .refine((name) => {
    const at = name.indexOf('@');
    return at > 0 && filesystemName.safeParse(name.slice(0, at)).success && shortName.safeParse(name.slice(at + 1)).success;
  }, 'not a valid snapshot name (fs@snap)')
  .meta({ id: 'SnapshotName', description: '`<FilesystemName>@<ShortName>`' });
export const versionName = z
  .string()
  .max(255)
  .refine((name) => {
    const sep = Math.max(name.indexOf('@'), name.indexOf('#'));
    return sep > 0 && filesystemName.safeParse(name.slice(0, sep)).success && shortName.safeParse(name.slice(sep + 1)).success;
  }, 'not a valid snapshot or bookmark name')
  .meta({ id: 'VersionName', description: 'a snapshot (`<FilesystemName>@<ShortName>`) or a bookmark (`<FilesystemName>#<ShortName>`)' });

export const filesystemVersion = z
  .object({
    type: z.enum(['snapshot', 'bookmark']),
    filesystem: filesystemName,
    name: shortName,
    fullName: versionName,
    guid,
    createtxg: z.number().int().nonnegative(),
    creation: z.number().int().nonnegative(),
  })
  .refine((v) => v.fullName === `${v.filesystem}${v.type === 'snapshot' ? '@' : '#'}${v.name}`, 'fullName does not match filesystem and name')
  .meta({
    id: 'FilesystemVersion',
    description:
      'a snapshot or bookmark; `fullName` is `filesystem@name` (snapshot) or `filesystem#name` (bookmark); `createtxg` orders versions, `creation` is in seconds since the epoch',
  });

/** `zfs send` stream options: -w, -c, -L, -e. Refused where the sender's zfs lacks them. */
const sendFlags = z
  .strictObject({
    raw: z.boolean().optional(),
    compressed: z.boolean().optional(),
    largeBlocks: z.boolean().optional(),
    embedded: z.boolean().optional(),
  })
  .meta({ id: 'SendFlags', description: '`zfs send` stream options: `-w`, `-c`, `-L`, `-e`; refused where the sending zfs lacks one' });
export type SendFlags = z.infer<typeof sendFlags>;

/** The stream options that are on, and only those (what the driver's send options take). */
export function enabledSendFlags(flags: SendFlags): { raw?: true; compressed?: true; largeBlocks?: true; embedded?: true } {
  return {
    ...(flags.raw === true ? { raw: true } : {}),
    ...(flags.compressed === true ? { compressed: true } : {}),
    ...(flags.largeBlocks === true ? { largeBlocks: true } : {}),
    ...(flags.embedded === true ? { embedded: true } : {}),
  };
}

/** A replication cursor's hold tag (see endpoint/cursor.ts). */
const cursorTag = z
  .string()
  .regex(/^zferry_[A-Za-z0-9_.:-]{1,200}$/)
  .meta({ id: 'CursorTag', description: 'the hold tag of a replication cursor (one per job and destination)' });

/** A served client's identity: one dataset component (config/ checks the same at config time). */
const clientIdentity = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_:.][A-Za-z0-9_:.-]*$/)
  .refine((name) => name !== '.' && name !== '..', 'not a dataset component')
  .meta({ id: 'ClientIdentity', description: 'the name a serving side knows its client by: a single dataset component (`laptop`, `db1`)' });

/** Earlier spellings of one destination (endpoint/identity.ts): a handful, never more. */
const MAX_FORMER_CURSOR_TAGS = 32;

const cursorMove = z
  .object({
    filesystem: filesystemName,
    snapshot: shortName.describe('the snapshot that becomes the incremental base'),
  })
  .meta({ id: 'CursorMove' });

/**
 * Request size limits (what the serving side buffers of a request; 64 KiB unless set). Only the
 * endpoints taking lists of names need more: up to their list bound of names of up to 255
 * characters, capped by the connection's 32 MiB message limit.
 */
const MiB = 1024 * 1024;
const SNAPSHOT_REQUEST_BYTES = 4 * MiB; // 10,000 names: 2.6 MB at most
const NAME_LIST_REQUEST_BYTES = 32 * MiB; // 100,000 names or moves

export const endpointContract = defineContract('zferry.endpoint.v1', {
  session: endpoint({
    description:
      'Who this connection is to the serving side, and where it may act: `identity` is the name the server authenticated the client as (a tcp address rule, a TLS certificate CN, a stdinserver identity; absent where it has none, as `zferry serve --stdio`), `roots` the datasets it is confined to, at or below which every name must lie (empty: unconfined). ' +
      "A sink serves one root, `root_fs/<identity>` (or `root_fs` with `path_mapping: one_to_one`): a push plans its targets below it without knowing the server's `root_fs`. A source serves the roots of its `filesystems` filter: what a pull may list and send.",
    errors: endpointErrors('ENDPOINT_SERVED_ROOT_NOT_FOUND'),
    request: z.object({}),
    response: z.object({
      identity: clientIdentity.optional(),
      roots: z.array(filesystemName).max(10_000),
      pathMapping: z
        .enum(['nested', 'one_to_one'])
        .optional()
        .describe(
          "a sink's `path_mapping`: how a push maps its filesystems below the root (`nested`: `root/pool/x`; `one_to_one`: its single tree at the root itself)",
        ),
    }),
  }),
  listVersionTree: endpoint({
    description:
      'The filesystem and (with `recursive`) its descendants, each with its snapshots (and bookmarks where supported), parents first: one `zfs get` for a whole tree. ' +
      '`exists: false` when the root is missing. With `cursorTag`, each filesystem also says where that replication cursor stands (read in the same `zfs get`), so a run with nothing new can skip moveCursors.',
    errors: endpointErrors(),
    request: z.object({
      root: filesystemName,
      recursive: z.boolean(),
      cursorTag: cursorTag.optional(),
      formerCursorTags: z
        .array(cursorTag)
        .max(MAX_FORMER_CURSOR_TAGS)
        .optional()
        .describe("the same job's tags under names earlier versions gave the destination; each filesystem says which of them it still records"),
    }),
    response: z.object({
      exists: z.boolean(),
      filesystems: z
        .array(
          z.object({
            name: filesystemName,
            versions: z.array(filesystemVersion),
            cursor: shortName
              .optional()
              .describe(
                "the cursor's snapshot once its last move finished, where recorded on this filesystem itself (`^`: as its parent's; an inherited value does not count); absent when none, unfinished or not asked",
              ),
            formerCursors: z
              .array(cursorTag)
              .max(MAX_FORMER_CURSOR_TAGS)
              .optional()
              .describe(
                "those of `formerCursorTags` this filesystem has a record of (its own, as its parent's or inherited): their holds may remain until moveCursors takes them over",
              ),
          }),
        )
        .max(1_000_000),
      resumeTokens: z
        .record(filesystemName, z.string().regex(/^[0-9a-zA-Z-]{1,8192}$/))
        .describe('filesystems holding an interrupted resumable receive, with its `receive_resume_token` (resumable pools only)'),
    }),
  }),
  poolIdentity: endpoint({
    description:
      'The guid of the pool holding `filesystem` (null: there is no such pool). Two sides whose pools have one guid are one pool, even when one is reached over ssh to this very host: a job refuses a target that overlaps its source there.',
    errors: endpointErrors(),
    request: z.object({ filesystem: filesystemName }),
    response: z.object({ guid: guid.nullable() }),
  }),
  abortPartialReceive: endpoint({
    description: "Throw away an interrupted receive's partial state (`zfs receive -A`) so the step can restart. Does nothing where receives are not resumable.",
    errors: endpointErrors('ZFS_DATASET_NOT_FOUND', 'ZFS_DATASET_BUSY'),
    request: z.object({ filesystem: filesystemName }),
    response: z.object({}),
  }),
  listVersions: endpoint({
    description: 'Snapshots (and bookmarks where supported) of one filesystem; `versions: null` when it is missing.',
    errors: endpointErrors(),
    request: z.object({ filesystem: filesystemName }),
    response: z.object({
      versions: z.array(filesystemVersion).nullable(),
      resumeToken: z.string().max(8192).optional().describe('the `receive_resume_token` of an interrupted receive into this filesystem, where supported'),
    }),
  }),
  snapshot: endpoint({
    description:
      'Take snapshots atomically (one `zfs snapshot` command) where zfs takes several names in one call; otherwise one by one (or, with `atomicOnly`, none).',
    errors: endpointErrors('ZFS_DATASET_NOT_FOUND', 'ZFS_DESTINATION_EXISTS', 'ZFS_OUT_OF_SPACE', 'ZFS_DATASET_BUSY'),
    maxRequestBytes: SNAPSHOT_REQUEST_BYTES,
    request: z.object({
      snapshots: z.array(snapshotName).min(1).max(10000),
      recursive: z.boolean(),
      atomicOnly: z.boolean().optional().describe('take none (`taken: false`) rather than one by one when one `zfs snapshot` cannot take them all'),
    }),
    response: z.object({
      taken: z.boolean().optional().describe('false: `atomicOnly` and one call could not take them all; nothing was taken'),
      atomic: z.boolean().optional().describe('whether one `zfs snapshot` call took them all'),
      reason: z.string().max(1000).optional().describe('why not in one call'),
    }),
  }),
  estimateSend: endpoint({
    description:
      "How big the stream of the same `send` request would be, for progress; `bytes: null` where zfs cannot tell, `approximate` when it is the snapshot's referenced size rather than zfs's own estimate.",
    errors: endpointErrors('ZFS_DATASET_NOT_FOUND', 'ZFS_INCREMENTAL_SOURCE_MISSING', 'ZFS_INCREMENTAL_MISMATCH', 'ZFS_UNSUPPORTED'),
    request: z.object({ snapshot: snapshotName, from: versionName.optional(), intermediates: z.boolean(), flags: sendFlags.optional() }),
    response: z.object({ bytes: z.number().int().nonnegative().nullable(), approximate: z.boolean() }),
  }),
  send: endpoint({
    stream: 'response',
    description:
      '`zfs send` of `snapshot` (incremental from `from` with `from`, with every snapshot in between with `intermediates`), or the rest of an interrupted send with `resumeToken`; the response byte stream is the send stream. ' +
      "A token must name `snapshot`; an endpoint serving roots also refuses a token it cannot decode or whose guid is not that snapshot's. " +
      "zfs send starts when the stream is read: its failures (a missing snapshot, an unsupported flag) end the stream with a trailer `RPC_STREAM_SOURCE` whose message is zfs's.",
    errors: endpointErrors('ENDPOINT_RESUME_TOKEN_UNREADABLE', 'ENDPOINT_RESUME_TOKEN_MISMATCH', 'ZFS_DATASET_NOT_FOUND'),
    request: z.object({
      snapshot: snapshotName,
      from: versionName.optional(),
      intermediates: z.boolean(),
      flags: sendFlags.optional().describe('stream options; a resumed send takes them from its token instead'),
      resumeToken: z.string().max(8192).optional().describe("the receiver's `receive_resume_token`: continue that send (no `from`, `intermediates` false)"),
    }),
    response: z.object({}),
  }),
  receive: endpoint({
    stream: 'request',
    description:
      '`zfs receive` of the request byte stream into `target`, verified afterwards by guid: the snapshot `target@snapshotName` must have `expectedGuid`. ' +
      'With `incrementalBase`, the target must hold a snapshot with that guid. `force` is `zfs receive -F`; `resumable` is `-s` where the pool supports it (an interrupted receive then keeps a `resumeToken`).',
    errors: endpointErrors(
      'ENDPOINT_TARGET_NOT_EMPTY',
      'ENDPOINT_POOL_NOT_FOUND',
      'ENDPOINT_PARENT_NOT_FOUND',
      'ZFS_DATASET_NOT_FOUND',
      'ZFS_DESTINATION_EXISTS',
      'ZFS_TARGET_MODIFIED',
      'ZFS_INCREMENTAL_MISMATCH',
      'ZFS_INCREMENTAL_SOURCE_MISSING',
      'ZFS_PARTIAL_RECEIVE_STATE',
      'ZFS_INVALID_STREAM',
      'ZFS_OUT_OF_SPACE',
      'ZFS_DATASET_BUSY',
      'ZFS_UNSUPPORTED',
      'ZFS_RECEIVE_UNVERIFIED',
      'ZFS_ABORTED',
    ),
    request: z.object({
      target: filesystemName,
      snapshotName: shortName,
      expectedGuid: guid,
      incrementalBase: z.object({ guid }).optional(),
      force: z.boolean(),
      resumable: z.boolean(),
      targetChecked: z.boolean().optional().describe('the caller planned from its own listing of the target in this run: no listing before the receive'),
      deferVerification: z
        .boolean()
        .optional()
        .describe('on a clean exit of zfs recv, answer without `version`: the caller verifies it later (verifyReceived)'),
    }),
    response: z.object({
      version: filesystemVersion.optional().describe('the received snapshot (absent with `deferVerification`)'),
      streamBytes: z
        .number()
        .int()
        .nonnegative()
        .optional()
        .describe(
          'set when the stream went straight from a same-host zfs send into zfs recv (nothing to count in between): the size zfs recv reported, rounded by zfs',
        ),
    }),
  }),
  verifyReceived: endpoint({
    description:
      'The received snapshots as they are now, in the order asked (`null`: not there): the deferred verification of several receives in one `zfs get`.',
    errors: endpointErrors(),
    maxRequestBytes: NAME_LIST_REQUEST_BYTES,
    request: z.object({ snapshots: z.array(snapshotName).max(100000) }),
    response: z.object({ versions: z.array(filesystemVersion.nullable()) }),
  }),
  rollback: endpoint({
    description: 'Roll the filesystem back to a snapshot, destroying the newer ones (`zfs rollback -r`), if the snapshot still has `expectedGuid`.',
    errors: endpointErrors('ENDPOINT_ROLLBACK_MISMATCH', 'ZFS_DATASET_NOT_FOUND', 'ZFS_DATASET_BUSY'),
    request: z.object({ snapshot: snapshotName, expectedGuid: guid }),
    response: z.object({}),
  }),
  rename: endpoint({
    description: 'Move a filesystem aside (a diverged target kept under a new name).',
    errors: endpointErrors('ZFS_DATASET_NOT_FOUND', 'ZFS_DESTINATION_EXISTS', 'ZFS_DATASET_BUSY'),
    request: z.object({ from: filesystemName, to: filesystemName }),
    response: z.object({}),
  }),
  ensureParent: endpoint({
    description: "Make sure a filesystem's parent exists, so a first full receive into it can land; `created` lists the filesystems it created, topmost first.",
    errors: endpointErrors('ENDPOINT_POOL_NOT_FOUND', 'ZFS_DATASET_NOT_FOUND', 'ZFS_DESTINATION_EXISTS', 'ZFS_OUT_OF_SPACE'),
    request: z.object({ filesystem: filesystemName }),
    response: z.object({ created: z.array(filesystemName) }),
  }),
  moveCursors: endpoint({
    description:
      'Move the replication cursors of one job and destination: hold each new base snapshot under `tag`, record it, and release the tag from the previous base; `released` counts the released holds. ' +
      'With `root`, the moves are of a recursive job under it: when every filesystem there moves to one snapshot, the endpoint moves the whole tree with recursive commands. ' +
      '`released` includes the holds of `formerTags` given up.',
    errors: endpointErrors('ENDPOINT_CURSOR_OUTSIDE_TREE', 'ZFS_DATASET_NOT_FOUND', 'ZFS_DATASET_BUSY'),
    maxRequestBytes: NAME_LIST_REQUEST_BYTES,
    request: z.object({
      tag: cursorTag,
      moves: z.array(cursorMove).max(100000),
      root: filesystemName.optional(),
      formerTags: z
        .array(cursorTag)
        .max(MAX_FORMER_CURSOR_TAGS)
        .optional()
        .describe(
          "the job's tags under earlier names of the destination: once `tag` holds a moving filesystem's base, their holds on it are released and their records removed",
        ),
    }),
    response: z.object({ released: z.number().int().nonnegative() }),
  }),
  listPruneTree: endpoint({
    description:
      'What pruning decides on: the filesystem and (with `recursive`) its descendants, each with its snapshots (guid, createtxg, creation, `userrefs`: its holds) oldest first, ' +
      'and every zferry replication cursor recorded on it (any job, any destination: tag and snapshot). `exists: false` when the root is missing.',
    errors: endpointErrors(),
    request: z.object({ root: filesystemName, recursive: z.boolean() }),
    response: z.object({
      exists: z.boolean(),
      filesystems: z
        .array(
          z.object({
            name: filesystemName,
            snapshots: z.array(
              z.object({
                name: shortName,
                guid,
                createtxg: z.number().int().nonnegative(),
                creation: z.number().int().nonnegative(),
                userrefs: z.number().int().nonnegative(),
              }),
            ),
            cursors: z
              .array(z.object({ tag: cursorTag, snapshot: shortName }))
              .describe("each cursor recorded on this filesystem (its own value, or its parent's where stored as `^`) with the snapshot it names"),
          }),
        )
        .max(1_000_000),
    }),
  }),
  destroySnapshots: endpoint({
    description:
      'Destroy snapshots of one filesystem (pruning). Each is checked again just before: one whose guid is not the one given, or that is held (`userrefs` > 0), is refused, not destroyed. ' +
      'Batched (`zfs destroy fs@a,b,c`) where the zfs accepts it, one call each otherwise. A snapshot already gone counts as destroyed.',
    errors: endpointErrors('ZFS_DATASET_NOT_FOUND', 'ZFS_DATASET_BUSY'),
    maxRequestBytes: NAME_LIST_REQUEST_BYTES,
    request: z.object({ filesystem: filesystemName, snapshots: z.array(z.object({ name: shortName, guid })).max(100000) }),
    response: z.object({
      destroyed: z.array(shortName),
      refused: z.array(z.object({ name: shortName, reason: z.string().max(1000) })).describe('snapshots left in place, with why (held, another guid)'),
    }),
  }),
});

export type EndpointContract = typeof endpointContract;
export type FilesystemVersionMessage = z.infer<typeof filesystemVersion>;
