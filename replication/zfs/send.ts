/**
 * `zfs send`: argument building (validated, capability-checked) and the running process.
 */

import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { ZfsCapabilities } from './types.js';
import { validateResumeToken, validateSnapshotName, validateVersionName } from './names.js';
import { InvalidNameError, ZfsAbortedError, ZfsUnsupportedError, type ZfsError } from './errors.js';
import { errorMessage } from '../../platform/errors.js';
import { errorFromResult } from './exec.js';
import { spawnStreamChild } from './process.js';
import { sendJournal } from './send-journal.js';

export interface SendOptions {
  /** Full name `fs@snap`. */
  snapshot: string;
  /** Incremental base: `fs@snap` or `fs#bookmark`. */
  from?: string;
  /** `-I` (all intermediate snapshots) instead of `-i`. */
  intermediates?: boolean;
  /** `-p`: include properties. */
  properties?: boolean;
  /** `-w`: raw (encrypted/compressed blocks as stored). */
  raw?: boolean;
  /** `-c`: compressed blocks as stored. */
  compressed?: boolean;
  /** `-L`: blocks larger than 128 KiB. */
  largeBlocks?: boolean;
  /** `-e`: embedded blocks (tiny, compressed into the block pointer) as stored. */
  embedded?: boolean;
  /** `send -t TOKEN`: resume an interrupted receive; `snapshot` then only names the target. */
  resumeToken?: string;
  signal?: AbortSignal;
  /** The caller reads `stream` from the same tick on: it may then be the pipe itself. */
  readNow?: boolean;
}

/** What a send stream will amount to, before it runs. */
export interface SendSizeEstimate {
  bytes: number;
  /** Derived from the snapshot's size, not zfs's own estimate of the stream. */
  approximate: boolean;
}

export interface SendProcess {
  /**
   * The send stream (the child's stdout). Its end is not success: a failed send also ends
   * the stream; only `done` tells.
   */
  stream: Readable;
  /** Resolves on success; rejects with a typed ZfsError (full stderr and exit code). */
  done: Promise<void>;
  /**
   * Closes the stream (the daemon then stops writing) and makes sure the process exits;
   * `done` then rejects with ZfsAbortedError.
   */
  abort(reason?: unknown): void;
  readonly stderr: string;
  readonly command: readonly string[];
  readonly pid: number | undefined;
}

function unsupported(what: string, caps: ZfsCapabilities, key: keyof ZfsCapabilities['reasons']): ZfsUnsupportedError {
  const why = caps.reasons[key];
  return new ZfsUnsupportedError(`${what} is not supported here${why ? `: ${why}` : ''}`);
}

/**
 * The argv after `zfs` for these options. Throws InvalidNameError for bad names and
 * ZfsUnsupportedError when `caps` (if known) rules a flag out.
 */
export function buildSendArgs(opts: SendOptions, caps?: ZfsCapabilities): string[] {
  validateSnapshotName(opts.snapshot);
  if (opts.resumeToken !== undefined) {
    validateResumeToken(opts.resumeToken);
    if (opts.from !== undefined || opts.intermediates || opts.properties) {
      throw new InvalidNameError(opts.snapshot, 'from/intermediates/properties cannot be combined with a resume token');
    }
    if (caps && !caps.resumable) throw unsupported('resuming a send (zfs send -t)', caps, 'resumable');
    // The token carries the stream flags (-c/-w/-L) of the interrupted send.
    return ['send', '-t', opts.resumeToken];
  }

  const args = ['send'];
  if (opts.properties) args.push('-p');
  if (opts.raw) {
    if (caps && !caps.sendRaw) throw unsupported('raw send (-w)', caps, 'sendRaw');
    args.push('-w');
  }
  if (opts.compressed) {
    if (caps && !caps.sendCompressed) throw unsupported('compressed send (-c)', caps, 'sendCompressed');
    args.push('-c');
  }
  if (opts.largeBlocks) {
    if (caps && !caps.sendLargeBlocks) throw unsupported('large-block send (-L)', caps, 'sendLargeBlocks');
    args.push('-L');
  }
  if (opts.embedded) {
    if (caps && !caps.sendEmbedded) throw unsupported('embedded-block send (-e)', caps, 'sendEmbedded');
    args.push('-e');
  }
  if (opts.from !== undefined) {
    const from = validateVersionName(opts.from);
    if (from.type === 'bookmark') {
      if (opts.intermediates) throw new InvalidNameError(opts.from, '-I needs a snapshot, not a bookmark');
      if (caps && !caps.bookmarks) throw unsupported('sending from a bookmark', caps, 'bookmarks');
    }
    if (opts.from === opts.snapshot) throw new InvalidNameError(opts.from, 'incremental base equals the snapshot');
    args.push(opts.intermediates ? '-I' : '-i', opts.from);
  } else if (opts.intermediates) {
    throw new InvalidNameError(opts.snapshot, 'intermediates (-I) needs a from snapshot');
  }
  args.push(opts.snapshot);
  return args;
}

/**
 * A `zfs send` writing straight into another process's pipe: no stream passes through us.
 * Whoever holds the reading end stops it (see connectedSockets); `abort()` here only makes
 * sure the process is gone in the end.
 */
export type DirectSendProcess = Omit<SendProcess, 'stream'>;

/**
 * Where the output goes: to us (`pipe`; `pipe-read-now` when the caller reads from this tick
 * on, see spawnStreamChild), or straight into `sink`, a pipe or socket with a file descriptor
 * such as the writer's end of connectedSockets(), whose reader is a `zfs recv`'s stdin.
 */
export type SendOutput = 'pipe' | 'pipe-read-now' | Writable;

/** Called with the process id of a send that died by a signal, before its `done` settles. */
export type KilledSendHandler = (pid: number) => Promise<void>;

/** Starts `zfs send` with already built args. */
export function startSend(
  zfsBin: string,
  args: readonly string[],
  logger: Logger,
  opts: { signal?: AbortSignal; output: 'pipe' | 'pipe-read-now'; onKilled?: KilledSendHandler },
): SendProcess;
export function startSend(
  zfsBin: string,
  args: readonly string[],
  logger: Logger,
  opts: { signal?: AbortSignal; output: Writable; onKilled?: KilledSendHandler },
): DirectSendProcess;
export function startSend(
  zfsBin: string,
  args: readonly string[],
  logger: Logger,
  opts: { signal?: AbortSignal; output: SendOutput; onKilled?: KilledSendHandler },
): SendProcess | DirectSendProcess {
  const { signal } = opts;
  const child = spawnStreamChild(zfsBin, args, { stdin: 'ignore', stdout: opts.output, shutDownOutput: true }, logger);
  const journal = sendJournal();
  const pid = child.pid;
  if (journal !== undefined && pid !== undefined) {
    journal.started(pid, args);
    void child.exited.then(() => journal.ended(pid));
  }
  const stream = child.stdout;
  let abortReason: unknown;
  let aborted = false;
  let consumerClosed = false;

  // A consumer that destroys the stream before the end (e.g. a failed receive) aborts the
  // send: the daemon gets EPIPE. Report that as an abort, not as a mysterious Broken pipe.
  stream?.once('close', () => {
    if (!stream.readableEnded && !child.hasExited) consumerClosed = true;
  });

  const onAbort = (): void => sendProcess.abort(signal?.reason);
  const done = (async (): Promise<void> => {
    const exit = await child.exited;
    signal?.removeEventListener('abort', onAbort);
    // Settled only after what a killed send left behind is cleaned up (send-holds.ts).
    if (exit.signal !== undefined && pid !== undefined) await opts.onKilled?.(pid).catch(() => undefined);
    if (aborted) {
      throw new ZfsAbortedError(`zfs send aborted${describe(abortReason)}`, {
        stderr: exit.stderr,
        exitCode: exit.exitCode,
        command: child.command,
        cause: abortReason,
      });
    }
    if (exit.exitCode === 0) return;
    const error: ZfsError = errorFromResult({ command: child.command, ...exit, stdout: '' });
    if (consumerClosed && exit.spawnError === undefined) {
      throw new ZfsAbortedError(`zfs send aborted: the reader closed the stream (${error.message})`, {
        stderr: exit.stderr,
        exitCode: exit.exitCode,
        command: child.command,
        cause: error,
      });
    }
    throw error;
  })();
  // Callers that never await `done` must not crash the process with an unhandled rejection.
  done.catch(() => undefined);

  const sendProcess: DirectSendProcess = {
    done,
    abort(reason?: unknown) {
      if (aborted || child.hasExited) return;
      aborted = true;
      abortReason = reason;
      logger.debug({ cmd: child.command, reason: describe(reason) }, 'aborting zfs send');
      child.terminate();
    },
    get stderr() {
      return child.stderr;
    },
    command: child.command,
    pid: child.pid,
  };

  if (signal) {
    if (signal.aborted) sendProcess.abort(signal.reason);
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  // Object.assign keeps the stderr getter (a spread would freeze its current value).
  return stream ? Object.assign(sendProcess, { stream }) : sendProcess;
}

function describe(reason: unknown): string {
  if (reason === undefined) return '';
  return `: ${errorMessage(reason)}`;
}
