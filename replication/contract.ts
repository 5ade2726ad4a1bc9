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

/** Dataset names as zfs allows them; never starting with `-` (it would read as an option). */
const componentPattern = '[A-Za-z0-9_.:][A-Za-z0-9_.: -]*';
const filesystemPattern = new RegExp(`^[A-Za-z0-9_.:](?:[A-Za-z0-9_.: -]*)(?:/${componentPattern})*$`);
const shortNamePattern = new RegExp(`^${componentPattern}$`);

export const filesystemName = z
  .string()
  .min(1)
  .max(255)
  .regex(filesystemPattern, 'not a valid filesystem name')
  .refine((name) => !name.split('/').some((part) => part === '.' || part === '..'), 'contains a . or .. component');
export const shortName = z.string().min(1).max(255).regex(shortNamePattern, 'not a valid snapshot name');
export const guid = z.string().regex(/^[0-9]{1,20}$/, 'guid must be a decimal string');
export const snapshotName = z
  .string()
  .max(255)
  .refine((name) => {
    const at = name.indexOf('@');
    return at > 0 && filesystemName.safeParse(name.slice(0, at)).success && shortName.safeParse(name.slice(at + 1)).success;
  }, 'not a valid snapshot name (fs@snap)');
export const versionName = z
  .string()
  .max(255)
  .refine((name) => {
    const sep = Math.max(name.indexOf('@'), name.indexOf('#'));
    return sep > 0 && filesystemName.safeParse(name.slice(0, sep)).success && shortName.safeParse(name.slice(sep + 1)).success;
  }, 'not a valid snapshot or bookmark name');

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
  .refine((v) => v.fullName === `${v.filesystem}${v.type === 'snapshot' ? '@' : '#'}${v.name}`, 'fullName does not match filesystem and name');

/** `zfs send` stream options: -w, -c, -L, -e. Refused where the sender's zfs lacks them. */
const sendFlags = z.strictObject({
  raw: z.boolean().optional(),
  compressed: z.boolean().optional(),
  largeBlocks: z.boolean().optional(),
  embedded: z.boolean().optional(),
});
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
const cursorTag = z.string().regex(/^zferry_[A-Za-z0-9_.:-]{1,200}$/);

const cursorMove = z.object({
  filesystem: filesystemName,
  /** Short name of the snapshot that becomes the incremental base. */
  snapshot: shortName,
});

/**
 * Request size limits (what the serving side buffers of a request; 64 KiB unless set). Only the
 * endpoints taking lists of names need more: up to their list bound of names of up to 255
 * characters, capped by the connection's 32 MiB message limit.
 */
const MiB = 1024 * 1024;
const SNAPSHOT_REQUEST_BYTES = 4 * MiB; // 10,000 names: 2.6 MB at most
const NAME_LIST_REQUEST_BYTES = 32 * MiB; // 100,000 names or moves

export const endpointContract = defineContract('zferry.endpoint.v1', {
  /**
   * The filesystem and (with recursive) its descendants, each with its snapshots (and bookmarks
   * where supported), parents first: one `zfs get` for a whole tree. `exists: false` when the
   * root is missing. With `cursorTag`, each filesystem also says where that replication cursor
   * stands (read in the same `zfs get`), so a run with nothing new can skip moveCursors.
   */
  listVersionTree: endpoint({
    request: z.object({ root: filesystemName, recursive: z.boolean(), cursorTag: cursorTag.optional() }),
    response: z.object({
      exists: z.boolean(),
      filesystems: z
        .array(
          z.object({
            name: filesystemName,
            versions: z.array(filesystemVersion),
            /** The cursor's snapshot (set here or inherited) once its last move finished; absent when none, unfinished or not asked. */
            cursor: shortName.optional(),
          }),
        )
        .max(1_000_000),
      /** Filesystems holding an interrupted resumable receive, with its token (resumable pools only). */
      resumeTokens: z.record(filesystemName, z.string().regex(/^[0-9a-zA-Z-]{1,8192}$/)),
    }),
  }),
  /** Throw away an interrupted receive's partial state (`zfs receive -A`) so the step can restart. */
  abortPartialReceive: endpoint({
    request: z.object({ filesystem: filesystemName }),
    response: z.object({}),
  }),
  /** Snapshots (and bookmarks where supported) of one filesystem; `versions: null` when it is missing. */
  listVersions: endpoint({
    request: z.object({ filesystem: filesystemName }),
    response: z.object({
      versions: z.array(filesystemVersion).nullable(),
      /** Resume token of an interrupted receive into this filesystem, where supported. */
      resumeToken: z.string().max(8192).optional(),
    }),
  }),
  /** Take snapshots atomically (one `zfs snapshot` command). */
  snapshot: endpoint({
    maxRequestBytes: SNAPSHOT_REQUEST_BYTES,
    request: z.object({ snapshots: z.array(snapshotName).min(1).max(10000), recursive: z.boolean() }),
    response: z.object({}),
  }),
  /** How big a send will be, for progress; null where zfs cannot tell. */
  estimateSend: endpoint({
    request: z.object({ snapshot: snapshotName, from: versionName.optional(), intermediates: z.boolean(), flags: sendFlags.optional() }),
    response: z.object({ bytes: z.number().int().nonnegative().nullable(), approximate: z.boolean() }),
  }),
  send: endpoint({
    stream: 'response',
    request: z.object({
      snapshot: snapshotName,
      from: versionName.optional(),
      intermediates: z.boolean(),
      /** Stream options; a resumed send takes them from its token instead. */
      flags: sendFlags.optional(),
      resumeToken: z.string().max(8192).optional(),
    }),
    response: z.object({}),
  }),
  receive: endpoint({
    stream: 'request',
    request: z.object({
      target: filesystemName,
      snapshotName: shortName,
      expectedGuid: guid,
      incrementalBase: z.object({ guid }).optional(),
      force: z.boolean(),
      resumable: z.boolean(),
      /** The caller planned from its own listing of the target in this run: no listing before the receive. */
      targetChecked: z.boolean().optional(),
      /** On a clean exit of zfs recv, answer without `version`: the caller verifies it later (verifyReceived). */
      deferVerification: z.boolean().optional(),
    }),
    /**
     * `streamBytes`: set when the stream went straight from a same-host zfs send into zfs recv
     * (nothing to count in between): the size zfs recv reported, rounded by zfs.
     */
    response: z.object({ version: filesystemVersion.optional(), streamBytes: z.number().int().nonnegative().optional() }),
  }),
  /**
   * The received snapshots (`fs@name`) as they are now, in the order asked (null: not there):
   * the deferred verification of several receives in one `zfs get`.
   */
  verifyReceived: endpoint({
    maxRequestBytes: NAME_LIST_REQUEST_BYTES,
    request: z.object({ snapshots: z.array(snapshotName).max(100000) }),
    response: z.object({ versions: z.array(filesystemVersion.nullable()) }),
  }),
  /** Roll the filesystem back to a snapshot, destroying the newer ones (`zfs rollback -r`). */
  rollback: endpoint({
    request: z.object({ snapshot: snapshotName, expectedGuid: guid }),
    response: z.object({}),
  }),
  /** Move a filesystem aside (diverged target kept under a new name). */
  rename: endpoint({
    request: z.object({ from: filesystemName, to: filesystemName }),
    response: z.object({}),
  }),
  /** Make sure a filesystem's parent exists, so a first full receive into it can land. */
  ensureParent: endpoint({
    request: z.object({ filesystem: filesystemName }),
    response: z.object({ created: z.array(filesystemName) }),
  }),
  /**
   * Move the replication cursors of one job+destination: hold each new base snapshot under
   * `tag`, record it, and release the tag from the previous base. With `root`, the moves are
   * of a recursive job under it: when every filesystem there moves to one snapshot, the
   * endpoint moves the whole tree with recursive commands.
   */
  moveCursors: endpoint({
    maxRequestBytes: NAME_LIST_REQUEST_BYTES,
    request: z.object({
      tag: cursorTag,
      moves: z.array(cursorMove).max(100000),
      root: filesystemName.optional(),
    }),
    response: z.object({ released: z.number().int().nonnegative() }),
  }),
});

export type EndpointContract = typeof endpointContract;
export type FilesystemVersionMessage = z.infer<typeof filesystemVersion>;
