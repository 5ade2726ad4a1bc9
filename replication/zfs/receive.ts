/**
 * `zfs receive`: argument building and feeding a stream into the process.
 * The pre-flight checks and the guid verification live in the driver, which can list versions.
 */

import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { FilesystemVersion, ZfsCapabilities } from './types.js';
import { validateFilesystemName, validateGuid, validatePropertyName, validatePropertyValue, validateShortName } from './names.js';
import { ZfsUnsupportedError } from './errors.js';
import { DEFAULT_SOCKET_SEND_BYTES, enlargeSocketSendBuffer } from '../../platform/kernel-buffers.js';
import { spawnStreamChild, type StreamChildExit } from './process.js';
import { connectedSockets, descriptorOf, shutDownSocket } from './socket-pair.js';
import { parseReceivedBytes, type DirectSendSource } from './direct-send.js';
import type { DirectSendProcess } from './send.js';

export interface ReceiveOptions {
  /** The filesystem to receive into. */
  target: string;
  /** Short name of the snapshot the stream carries. */
  snapshotName: string;
  /** Guid of that snapshot: the receive only counts when a snapshot with it appears. */
  expectedGuid: string;
  /**
   * Set for incremental streams. The driver refuses before running zfs when the target does
   * not exist or has no snapshot with this guid: zfs itself may otherwise apply the stream
   * to another dataset of the pool that has the base (the silent-misdirect hazard).
   */
  incrementalBase?: { guid: string };
  /**
   * The caller listed the target during this run and planned from it (or received the previous
   * step into it): skip the listing before the receive. Only a target destroyed in between by
   * someone else escapes the misdirect check then.
   */
  targetChecked?: boolean;
  /**
   * When zfs recv exits 0, return without looking for the received snapshot (`version` is
   * then absent): the caller verifies it later, with others, through `findReceivedSnapshots`.
   * A failed receive is still examined at once.
   */
  deferVerification?: boolean;
  /** `-F`. */
  force?: boolean;
  /** `-u`; default true (a mounted target gets modified by reads with atime on). */
  unmounted?: boolean;
  /** `-s` where supported (otherwise ignored, with a log line). */
  resumable?: boolean;
  /** `-o prop=value`; ZfsUnsupportedError where unsupported. */
  properties?: Record<string, string>;
  /** `-x prop`; ZfsUnsupportedError where unsupported. */
  excludeProperties?: string[];
  signal?: AbortSignal;
}

export interface ReceiveResult {
  /** The received snapshot, found on the target by guid; absent when verification was deferred. */
  version?: FilesystemVersion;
  /**
   * Set when the stream went straight from a same-host `zfs send` into `zfs recv` (no byte
   * passed through this process): the size zfs recv reported, rounded by zfs.
   */
  streamBytes?: number;
  /** Present only when the target still holds a partial receive state afterwards. */
  resumeToken?: string;
}

/** Validates the options that do not need ZFS (names, guids). */
export function validateReceiveOptions(opts: ReceiveOptions): void {
  validateFilesystemName(opts.target);
  validateShortName(opts.snapshotName, 'snapshot');
  validateGuid(opts.expectedGuid);
  if (opts.incrementalBase) validateGuid(opts.incrementalBase.guid);
  for (const [prop, value] of Object.entries(opts.properties ?? {})) {
    validatePropertyName(prop);
    validatePropertyValue(prop, value);
  }
  for (const prop of opts.excludeProperties ?? []) validatePropertyName(prop);
}

/** The argv after `zfs`; degrades `-u`/`-s` with a log line, refuses `-o`/`-x` if unsupported. */
export function buildReceiveArgs(opts: ReceiveOptions, caps: ZfsCapabilities, logger?: Logger): string[] {
  validateReceiveOptions(opts);
  const args = ['receive'];
  if (opts.unmounted ?? true) {
    if (caps.receiveUnmounted) args.push('-u');
    else logger?.info({ target: opts.target, reason: caps.reasons.receiveUnmounted }, 'zfs recv -u unsupported; receiving mounted');
  }
  if (opts.force) args.push('-F');
  if (opts.resumable) {
    if (caps.resumable) args.push('-s');
    else logger?.debug({ target: opts.target, reason: caps.reasons.resumable }, 'resumable receive unsupported; an interruption restarts from zero');
  }
  const props = Object.entries(opts.properties ?? {});
  const excluded = opts.excludeProperties ?? [];
  if ((props.length > 0 || excluded.length > 0) && !caps.receiveProperties) {
    throw new ZfsUnsupportedError(`zfs recv -o/-x is not supported here${caps.reasons.receiveProperties ? `: ${caps.reasons.receiveProperties}` : ''}`);
  }
  for (const [prop, value] of props) args.push('-o', `${prop}=${value}`);
  for (const prop of excluded) args.push('-x', prop);
  args.push(opts.target);
  return args;
}

export interface FeedOutcome extends StreamChildExit {
  command: readonly string[];
  /** The signal fired (or was already aborted). */
  aborted: boolean;
  abortReason?: unknown;
  /** The input stream failed (error, or closed before its end) before zfs did. */
  inputError?: unknown;
}

/**
 * Runs `zfs receive` with `args` and feeds it `input`. Resolves once the process is gone.
 * Ownership: on every failure path `input` is destroyed (so its producer notices) and the
 * child's stdin is closed.
 */
export function feedReceive(zfsBin: string, args: readonly string[], input: Readable, logger: Logger, signal?: AbortSignal): Promise<FeedOutcome> {
  const child = spawnStreamChild(zfsBin, args, { stdin: 'pipe', stdout: 'ignore' }, logger);
  const stdin = child.stdin;
  let aborted = false;
  let abortReason: unknown;
  let inputError: unknown;
  let inputEnded = false;
  let zfsClosedFirst = false;

  const stopInput = (): void => {
    input.unpipe();
    if (!input.destroyed) input.destroy();
  };

  const onInputEnd = (): void => {
    inputEnded = true;
  };
  const onInputError = (error: unknown): void => {
    if (!zfsClosedFirst && !aborted) inputError ??= error;
    child.terminate();
  };
  const onInputClose = (): void => {
    if (!inputEnded) {
      if (!zfsClosedFirst && !aborted) inputError ??= new Error('the input stream closed before its end');
      child.terminate();
    }
  };
  const onStdinError = (): void => {
    // zfs closed its end (it failed or finished early): stop the producer.
    zfsClosedFirst = true;
    stopInput();
  };
  const onAbort = (): void => {
    if (child.hasExited) return;
    aborted = true;
    abortReason = signal?.reason;
    logger.debug({ cmd: child.command }, 'aborting zfs receive');
    stopInput();
    child.terminate();
  };

  input.on('end', onInputEnd);
  input.on('error', onInputError);
  input.on('close', onInputClose);
  stdin?.on('error', onStdinError);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  if (!aborted && stdin) {
    if (input.destroyed) {
      // Already gone: its 'close' will not come again, so zfs would wait forever.
      inputError = new Error('the input stream was destroyed before the receive started');
      child.terminate();
    } else if (input.readableEnded) {
      inputEnded = true;
      stdin.end();
    } else {
      input.pipe(stdin);
    }
  }

  return child.exited.then((exit) => {
    signal?.removeEventListener('abort', onAbort);
    input.off('end', onInputEnd);
    input.off('error', onInputError);
    input.off('close', onInputClose);
    // Whatever happened, nothing may keep writing into a dead process or keep a producer blocked.
    if (!inputEnded) stopInput();
    const outcome: FeedOutcome = { ...exit, command: child.command, aborted };
    if (aborted) outcome.abortReason = abortReason;
    if (inputError !== undefined) outcome.inputError = inputError;
    return outcome;
  });
}

/** How long a send may outlive a receive that finished before it is stopped. */
const SEND_GRACE_MS = 2000;

export interface DirectFeedOutcome extends FeedOutcome {
  /** The stream size zfs recv reported (rounded by zfs). */
  streamBytes?: number;
}

/**
 * Runs `zfs receive -v` with `args` and starts the send from `source` writing straight into
 * it, through a connection this process holds one end of (connectedSockets): an abort or a
 * failed receive shuts it down, and both zfs processes end as in a shell pipeline, the send
 * with EPIPE (its holds released), the receive with a truncated stream (nothing kept).
 * Resolves once both processes are gone. Which failure is the cause: a send that dies
 * truncates the stream (its error is the input error); a receive that fails breaks the send's
 * pipe (the send's "Broken pipe" is then only a consequence). Exit order cannot tell: the send
 * may be reaped before the receive's pipes close.
 */
export async function feedReceiveDirect(
  zfsBin: string,
  args: readonly string[],
  source: DirectSendSource,
  logger: Logger,
  signal?: AbortSignal,
  options: { largeStream?: boolean } = {},
): Promise<DirectFeedOutcome> {
  const { writer, reader } = await connectedSockets();
  const child = spawnStreamChild(zfsBin, ['receive', '-v', ...args.slice(1)], { stdin: reader, stdout: 'pipe' }, logger);
  let stdout = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    if (stdout.length < 65536) stdout += chunk;
  });
  let send: DirectSendProcess | undefined;
  let sendError: unknown;
  let sendNeverStarted = false;
  let aborted = false;
  let abortReason: unknown;

  let stopping: Promise<void> | undefined;
  /** Ends the transfer for both processes; ours is the last copy of the reader's end to go. */
  const stop = (why: string): Promise<void> =>
    (stopping ??= shutDownSocket(reader).then((done) => {
      logger.debug({ cmd: child.command, why, shutDown: done }, 'stopping zfs send → zfs recv');
      // Without the helper, closing and escalating is all that is left.
      if (!done) {
        reader.destroy();
        send?.abort(new Error(why));
      }
    }));

  const onAbort = (): void => {
    if (child.hasExited) return;
    aborted = true;
    abortReason = signal?.reason;
    void stop('aborted');
    child.terminate();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  if (!aborted) {
    try {
      send = source.startInto(writer);
    } catch (error) {
      sendError = error;
      sendNeverStarted = true;
      void stop('zfs send did not start');
    }
    // A full stream is usually big: a larger socket buffer between the two moves it faster
    // (kernel-buffers.ts). The helper takes its own copy of the descriptor before we let go.
    const fd = descriptorOf(writer);
    if (send !== undefined && options.largeStream && fd !== undefined) {
      void enlargeSocketSendBuffer(fd).then((granted) =>
        logger.debug({ granted, bytes: DEFAULT_SOCKET_SEND_BYTES }, 'larger socket buffer between zfs send and zfs recv'),
      );
    }
  }
  // The writer's end is zfs send's alone now: zfs recv sees the end of the stream when it exits.
  writer.destroy();
  const sendDone = send
    ? send.done.catch((error: unknown) => {
        sendError = error;
      })
    : Promise.resolve();
  // Ours is the last reader: it goes once nothing writes any more (closing it earlier could
  // reset the connection under zfs send, see socket-pair.ts).
  void sendDone.then(() => (stopping ?? Promise.resolve()).then(() => reader.destroy()));
  // A failed receive no longer reads: stop the send at once (it would wait for a reader
  // forever). One that succeeded read the whole stream: the send is ending anyway.
  let stopSend: NodeJS.Timeout | undefined;
  void child.exited.then((exit) => {
    if (!send) return;
    if (exit.exitCode !== 0) {
      void stop('zfs receive failed');
      return;
    }
    stopSend = setTimeout(() => void stop('zfs receive finished first'), SEND_GRACE_MS);
    stopSend.unref();
  });

  const [exit] = await Promise.all([child.exited, sendDone]);
  clearTimeout(stopSend);
  signal?.removeEventListener('abort', onAbort);
  if (!send) reader.destroy();
  const outcome: DirectFeedOutcome = { ...exit, command: child.command, aborted };
  if (aborted) outcome.abortReason = abortReason;
  // A send that died of a broken pipe only followed the receive's failure.
  if (sendError !== undefined && (sendNeverStarted || exit.exitCode === 0 || !diedOfBrokenPipe(sendError))) outcome.inputError = sendError;
  const streamBytes = parseReceivedBytes(stdout);
  if (streamBytes !== undefined) outcome.streamBytes = streamBytes;
  return outcome;
}

function diedOfBrokenPipe(error: unknown): boolean {
  const details = error as { message?: unknown; stderr?: unknown; signal?: unknown };
  const text = [details.message, details.stderr].filter((part): part is string => typeof part === 'string').join('\n');
  return /broken pipe|EPIPE/i.test(text) || details.signal === 'SIGPIPE';
}
