/**
 * Lifecycle of a long-running `zfs send`/`zfs recv` child.
 *
 * Killing the zfs client is not enough on zfs-fuse: the client hands its pipe to the daemon,
 * which keeps transferring. What stops a transfer is closing our end of the pipe (the daemon
 * then sees EPIPE or EOF and gives up), after which the client exits by itself; a send's
 * output is shut down before it is closed (socket-pair.ts says why). So an abort closes the
 * pipes first, waits, and only then escalates to SIGTERM and SIGKILL.
 */

import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { Logger } from 'pino';
import { shutDownSocket } from './socket-pair.js';
import { childExited, spawnZfs } from './spawn.js';

/** Time the client gets to notice the closed pipe before SIGTERM, then SIGKILL. */
export const ABORT_TERM_AFTER_MS = 3000;
export const ABORT_KILL_AFTER_MS = 6000;
const STDERR_LIMIT = 1024 * 1024;
/** Buffer of the stream handed to consumers; the pipe itself delivers 64 KiB reads. */
const OUTPUT_HIGH_WATER_MARK = 1024 * 1024;

export interface StreamChildExit {
  exitCode: number | undefined;
  signal: string | undefined;
  stderr: string;
  /** Set when the process could not be started. */
  spawnError?: Error;
}

export interface StreamChild {
  readonly command: readonly string[];
  readonly pid: number | undefined;
  readonly stdout: Readable | null;
  readonly stdin: Writable | null;
  /** stderr collected so far. */
  readonly stderr: string;
  /** Resolves (never rejects) once the process has exited and its stdio is closed. */
  readonly exited: Promise<StreamChildExit>;
  readonly hasExited: boolean;
  /** Closes the pipes, then escalates to SIGTERM/SIGKILL if the process lingers. */
  terminate(): void;
}

export function spawnStreamChild(
  bin: string,
  args: readonly string[],
  /**
   * A stream here must have a file descriptor: the child then reads or writes it directly.
   * `stdout: 'pipe-read-now'`: the caller reads stdout from this tick on, so it gets the pipe
   * itself (one stream hop less on the data path) instead of a buffering stream.
   */
  io: {
    stdin: 'pipe' | 'ignore' | Readable;
    stdout: 'pipe' | 'pipe-read-now' | 'ignore' | Writable;
    /** The child writes a stream we read (`zfs send`): shut our end down before closing it. */
    shutDownOutput?: boolean;
  },
  logger: Logger,
): StreamChild {
  const command = [bin, ...args];
  let stderr = '';
  let hasExited = false;
  const timers: NodeJS.Timeout[] = [];

  const requested = io.stdout;
  const readNow = requested === 'pipe-read-now';
  const stdout = readNow ? 'pipe' : requested;
  const subprocess = spawnZfs(bin, args, [io.stdin, stdout, 'pipe']);
  logger.debug({ cmd: command, pid: subprocess.pid }, 'zfs stream command started');

  subprocess.stderr?.setEncoding('utf8');
  subprocess.stderr?.on('data', (chunk: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += chunk.slice(0, STDERR_LIMIT - stderr.length);
  });
  // EPIPE and friends on our pipe ends are expected during aborts; the exit status tells.
  subprocess.stdin?.on('error', () => undefined);
  subprocess.stdout?.on('error', () => undefined);

  // Node resumes (and so discards) a child's stdout nobody listens to once the child exits: a
  // small send can finish before its consumer attaches. Piping it into our own stream right
  // away keeps every byte for a later consumer, with backpressure intact.
  let output: Readable | null = null;
  const rawStdout = subprocess.stdout;
  let outputClosing = false;
  const closeOutput = (): void => {
    if (outputClosing || !rawStdout) return;
    outputClosing = true;
    if (!io.shutDownOutput || rawStdout.destroyed) {
      rawStdout.destroy();
      return;
    }
    // Closing at once could reset the connection under a writing zfs send (socket-pair.ts). Even
    // after the shutdown, closing our end with unread data in it resets the writer if it has not
    // yet run to see the shutdown (a loaded machine): keep the end until the writer has gone.
    void shutDownSocket(rawStdout)
      .then((shut) => (shut ? Promise.race([exited, unrefDelay(ABORT_KILL_AFTER_MS)]) : undefined))
      .then(() => rawStdout.destroy());
  };
  if (rawStdout && readNow) {
    output = rawStdout;
  } else if (rawStdout) {
    const pass = new PassThrough({ highWaterMark: OUTPUT_HIGH_WATER_MARK });
    rawStdout.pipe(pass);
    // A consumer that closes the stream early must close the pipe too, or zfs never notices.
    pass.once('close', () => {
      if (!pass.readableEnded) closeOutput();
    });
    output = pass;
  }

  const exited = childExited(subprocess).then((exit): StreamChildExit => {
    hasExited = true;
    for (const timer of timers) clearTimeout(timer);
    logger.debug({ cmd: command, pid: subprocess.pid }, 'zfs stream command exited');
    return { ...exit, stderr };
  });

  let terminating = false;
  return {
    command,
    pid: subprocess.pid,
    stdout: output,
    stdin: subprocess.stdin,
    get stderr() {
      return stderr;
    },
    exited,
    get hasExited() {
      return hasExited;
    },
    terminate() {
      if (terminating || hasExited) return;
      terminating = true;
      subprocess.stdin?.destroy();
      closeOutput();
      if (output !== rawStdout) output?.destroy();
      const term = setTimeout(() => {
        if (!hasExited) subprocess.kill('SIGTERM');
      }, ABORT_TERM_AFTER_MS);
      const kill = setTimeout(() => {
        if (!hasExited) subprocess.kill('SIGKILL');
      }, ABORT_KILL_AFTER_MS);
      term.unref();
      kill.unref();
      timers.push(term, kill);
    },
  };
}

/** Resolves after `ms` without keeping the process alive for it. */
function unrefDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
