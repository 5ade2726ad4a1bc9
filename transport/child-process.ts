import { execa } from 'execa';
import type { Connector, PeerIdentity, TransportConnection } from './types.js';
import { TransportError } from './errors.js';
import { JoinedDuplex } from './joined-duplex.js';

/** How a child process used as a transport ended. */
export interface ChildExit {
  exitCode: number | undefined;
  signal: string | undefined;
  /** The process could not be started (e.g. ENOENT). */
  spawnError: Error | undefined;
  /** The last bytes the child wrote to stderr (bounded). */
  stderr: string;
  /** close() was called before the child ended: the end is expected, not a failure. */
  closedByUs: boolean;
}

/** A connection to a child process's stdin/stdout. */
export interface ChildConnection extends TransportConnection {
  readonly pid: number | undefined;
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  /** What the child wrote to stderr so far (the last `stderrLimit` bytes). */
  stderr(): string;
}

export interface ChildProcessOptions {
  file: string;
  args: readonly string[];
  env?: Record<string, string>;
  cwd?: string;
  peer: PeerIdentity;
  /** Bytes of stderr kept for error messages; default 16 KiB. */
  stderrLimit?: number;
  /** Each stderr chunk, for logging (the transport never writes it anywhere itself). */
  onStderr?: (text: string) => void;
  /** After close() ends stdin, how long the child may take to exit before SIGTERM; default 2 s. */
  closeGraceMs?: number;
  /**
   * Run the child in its own process group: a terminal's Ctrl-C (SIGINT to the foreground
   * group) then reaches only this process, which closes the connection in order.
   */
  detached?: boolean;
  /**
   * Turns an unsuccessful end into the error the connection fails with. Default: CHILD_FAILED
   * with the exit status and stderr.
   */
  describeFailure?: (exit: ChildExit) => TransportError;
}

const DEFAULT_STDERR_LIMIT = 16 * 1024;
const DEFAULT_CLOSE_GRACE_MS = 2000;

export function exitStatusText(exit: ChildExit): string {
  if (exit.spawnError) return `could not start: ${exit.spawnError.message}`;
  if (exit.signal !== undefined) return `killed by ${exit.signal}`;
  return `exit code ${String(exit.exitCode)}`;
}

export function stderrSuffix(stderr: string): string {
  const text = stderr.trim();
  return text.length > 0 ? `: ${text}` : ' (no stderr output)';
}

function defaultFailure(file: string, exit: ChildExit): TransportError {
  const code = exit.spawnError ? 'SPAWN_FAILED' : 'CHILD_FAILED';
  return new TransportError(code, `${file} failed (${exitStatusText(exit)})${stderrSuffix(exit.stderr)}`, { cause: exit.spawnError });
}

/**
 * Spawn a process and use its stdin/stdout as the connection. A non-zero exit (or a crash)
 * fails the stream with a TransportError carrying stderr, instead of a bare EOF, so that
 * "the remote command failed" is never mistaken for a clean end.
 */
export function spawnChildConnection(options: ChildProcessOptions): ChildConnection {
  const stderrLimit = options.stderrLimit ?? DEFAULT_STDERR_LIMIT;
  let closedByUs = false;
  let stderrText = '';

  const child = execa(options.file, [...options.args], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    ...(options.detached ? { detached: true } : {}),
    ...(options.env ? { env: options.env, extendEnv: false } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });

  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderrText = (stderrText + text).slice(-stderrLimit);
    options.onStderr?.(text);
  });

  const exited: Promise<ChildExit> = child.then(
    (result) => ({
      exitCode: result.exitCode,
      signal: result.signal,
      spawnError: result.exitCode === undefined && result.signal === undefined && result.cause instanceof Error ? result.cause : undefined,
      stderr: stderrText,
      closedByUs,
    }),
    // With reject: false execa does not reject; keep the promise total anyway.
    (err: unknown) => ({
      exitCode: undefined,
      signal: undefined,
      spawnError: err instanceof Error ? err : new Error(String(err)),
      stderr: stderrText,
      closedByUs,
    }),
  );

  const describeFailure = options.describeFailure ?? ((exit: ChildExit) => defaultFailure(options.file, exit));
  const settle = async (): Promise<Error | undefined> => {
    const exit = await exited;
    if (exit.closedByUs || (exit.exitCode === 0 && !exit.spawnError)) return undefined;
    return describeFailure(exit);
  };

  let killTimer: NodeJS.Timeout | undefined;
  const stopChild = (): void => {
    if (closedByUs) return;
    closedByUs = true;
    // stdin EOF asks the child to finish; it gets a grace period before SIGTERM (execa sends
    // SIGKILL if SIGTERM is ignored).
    killTimer = setTimeout(() => child.kill('SIGTERM'), options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    killTimer.unref();
    void exited.then(() => clearTimeout(killTimer));
  };

  const stream = new JoinedDuplex(child.stdout, child.stdin, { settle, onDestroy: stopChild });
  return {
    stream,
    peer: options.peer,
    pid: child.pid,
    exited,
    stderr: () => stderrText,
    close() {
      stopChild();
      stream.destroy();
    },
  };
}

/** Connector spawning a local command that speaks the protocol on its stdin/stdout. */
export function childProcessConnector(options: Omit<ChildProcessOptions, 'peer'> & { peer?: PeerIdentity }): Connector {
  return {
    async connect(signal?: AbortSignal): Promise<ChildConnection> {
      if (signal?.aborted) throw new TransportError('ABORTED', 'connect aborted', { cause: signal.reason });
      const peer = options.peer ?? { transport: 'pipe', name: options.file, detail: [options.file, ...options.args].join(' ') };
      return spawnChildConnection({ ...options, peer });
    },
  };
}
