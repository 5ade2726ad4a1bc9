/**
 * Typed errors of the `zfs` driver.
 *
 * Every operational failure of `zfs` exits 1 and usage errors exit 2, so the kind of failure
 * is only in stderr. `classifyZfsError` maps the messages of zfs-fuse and OpenZFS 2.x to
 * classes; some messages wrap over two lines, so whitespace is normalised before matching.
 */

import { ZferryError } from '../../platform/errors.js';

export interface ZfsErrorDetails {
  /** The full stderr of the command ('' when the driver refused before running anything). */
  stderr?: string;
  /** Exit code; undefined when no process ran or it died by a signal. */
  exitCode?: number | undefined;
  /** The argv that ran (or would have run), binary first. */
  command?: readonly string[];
  cause?: unknown;
}

export class ZfsError extends ZferryError {
  readonly stderr: string;
  readonly exitCode: number | undefined;
  readonly command: readonly string[];
  /** Set on a failed resumable receive when the target kept a partial state. */
  resumeToken?: string;

  constructor(code: string, message: string, details: ZfsErrorDetails = {}) {
    super(code, message, { cause: details.cause });
    this.stderr = details.stderr ?? '';
    this.exitCode = details.exitCode;
    this.command = details.command ?? [];
  }
}

/** `dataset does not exist`, `no such pool`, or an incremental target that is missing. */
export class DatasetNotFoundError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_DATASET_NOT_FOUND', message, details);
  }
}
/** `destination 'X' exists`, `destination already exists`, `dataset already exists`. */
export class DestinationExistsError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_DESTINATION_EXISTS', message, details);
  }
}
/** `destination X has been modified since most recent snapshot`. */
export class TargetModifiedError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_TARGET_MODIFIED', message, details);
  }
}
/** `most recent snapshot of X does not match incremental source`. */
export class IncrementalMismatchError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_INCREMENTAL_MISMATCH', message, details);
  }
}
/** `incremental source (@s) does not exist` (send side), or a receive base missing on the target. */
export class IncrementalSourceMissingError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_INCREMENTAL_SOURCE_MISSING', message, details);
  }
}
/** The target keeps the partial state of an interrupted `zfs recv -s`: resume it or abort it. */
export class PartialReceiveStateError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_PARTIAL_RECEIVE_STATE', message, details);
  }
}
/** `invalid backup stream`, `failed to read from stream`, `invalid stream (...)`, checksum errors. */
export class InvalidStreamError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_INVALID_STREAM', message, details);
  }
}
export class OutOfSpaceError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_OUT_OF_SPACE', message, details);
  }
}
/** `dataset is busy`, `pool or dataset is busy`, `target is busy` (an unmount that failed). */
export class DatasetBusyError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_DATASET_BUSY', message, details);
  }
}
export class PermissionDeniedError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_PERMISSION_DENIED', message, details);
  }
}
/** The zfs-fuse daemon (or the OpenZFS kernel module) is not reachable. */
export class DaemonNotRunningError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_DAEMON_NOT_RUNNING', message, details);
  }
}
/** `tag already exists on this dataset`. */
export class HoldExistsError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_HOLD_EXISTS', message, details);
  }
}
/** `no such tag on this dataset`. */
export class HoldNotFoundError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_HOLD_NOT_FOUND', message, details);
  }
}
/** This zfs build or pool lacks a requested feature (probed, or `invalid option` from zfs). */
export class ZfsUnsupportedError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_UNSUPPORTED', message, details);
  }
}
/** A receive exited as it liked but the expected snapshot (by guid) is not on the target. */
export class ReceiveVerificationError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_RECEIVE_UNVERIFIED', message, details);
  }
}
/** The operation was aborted (AbortSignal, abort(), or the consumer closed the stream). */
export class ZfsAbortedError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_ABORTED', message, details);
  }
}
/** Anything not recognised; keeps the full stderr and exit code. */
export class ZfsUnknownError extends ZfsError {
  constructor(message: string, details?: ZfsErrorDetails) {
    super('ZFS_UNKNOWN', message, details);
  }
}

/** A name (or tag, property, guid, token) refused before any command ran. */
export class InvalidNameError extends ZferryError {
  readonly invalidName: string;
  readonly reason: string;

  constructor(name: string, reason: string, options?: { cause?: unknown }) {
    super('ZFS_INVALID_NAME', `invalid name ${JSON.stringify(name)}: ${reason}`, options);
    this.invalidName = name;
    this.reason = reason;
  }
}

/** A `receive_resume_token` that cannot be decoded: corrupt, truncated or of an unknown format. */
export class ResumeTokenDecodeError extends ZferryError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('ZFS_RESUME_TOKEN_UNREADABLE', `resume token cannot be decoded: ${reason}`, options);
  }
}

type ZfsErrorClass = new (message: string, details?: ZfsErrorDetails) => ZfsError;

/**
 * Ordered rules: the specific messages come before the generic ones they contain
 * (`incremental source (@s) does not exist` before `does not exist`).
 */
const RULES: ReadonlyArray<readonly [RegExp, ZfsErrorClass]> = [
  // The zfs-fuse client cannot reach the daemon socket because of its permissions: the daemon
  // runs, the caller may not use it.
  [/connect: permission denied/i, PermissionDeniedError],
  [/the zfs utilities must be run as root/i, PermissionDeniedError],
  [
    /failed to initialize zfs library|zfs-fuse daemon is running|zfs_socket|zfs modules are not loaded|zfs modules cannot be auto-loaded|\/dev\/zfs and \/proc\/self\/mounts are required|failed to initialize the libzfs library/i,
    DaemonNotRunningError,
  ],
  [/incremental source \(.*?\) does not exist|incremental source .* no longer exists/i, IncrementalSourceMissingError],
  [/does not match incremental source|not an earlier snapshot from the same fs|incremental source must be in same filesystem/i, IncrementalMismatchError],
  [/contains partially-complete state/i, PartialReceiveStateError],
  [/has been modified since most recent snapshot/i, TargetModifiedError],
  [/destination '?[^ ']*'? exists|destination already exists|dataset already exists|pool or dataset exists|destination has snapshots/i, DestinationExistsError],
  [
    /invalid backup stream|failed to read from stream|invalid stream|checksum mismatch|incomplete stream|stream has unsupported feature|stream is corrupt|unexpected end of stream|premature end of stream/i,
    InvalidStreamError,
  ],
  [/out of space|space quota exceeded|no space left on device/i, OutOfSpaceError],
  [/tag already exists/i, HoldExistsError],
  [/no such tag/i, HoldNotFoundError],
  [/dataset is busy|pool or dataset is busy|pool is busy|target is busy|device or resource busy/i, DatasetBusyError],
  [/permission denied|operation not permitted/i, PermissionDeniedError],
  [/does not exist|no such pool|could not find any snapshots/i, DatasetNotFoundError],
  [/invalid option '|unrecognized option|unrecognized command/i, ZfsUnsupportedError],
];

/** Collapses line wraps and runs of blanks so two-line messages match as one. */
export function normalizeStderr(stderr: string): string {
  return stderr.replace(/\s+/g, ' ').trim();
}

/** The error class a stderr text belongs to. */
export function classifyStderr(stderr: string): ZfsErrorClass {
  const text = normalizeStderr(stderr);
  for (const [pattern, cls] of RULES) {
    if (pattern.test(text)) return cls;
  }
  return ZfsUnknownError;
}

/** Builds the typed error for a failed command. */
export function classifyZfsError(details: {
  stderr: string;
  exitCode: number | undefined;
  command: readonly string[];
  cause?: unknown;
  signal?: string | undefined;
}): ZfsError {
  const cls = classifyStderr(details.stderr);
  const text = normalizeStderr(details.stderr);
  const how = details.exitCode !== undefined ? `exit ${details.exitCode}` : details.signal !== undefined ? `signal ${details.signal}` : 'no exit code';
  const message = `${details.command.join(' ')} failed (${how})${text ? `: ${text}` : ''}`;
  const error = new cls(message, {
    stderr: details.stderr,
    exitCode: details.exitCode,
    command: details.command,
    cause: details.cause,
  });
  // OpenZFS prints the token of a saved partial receive ("zfs send -t <token>").
  const token = /zfs send -t ([0-9]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+)/i.exec(details.stderr)?.[1];
  if (token !== undefined) error.resumeToken = token;
  return error;
}
