import { Console } from 'node:console';
import { fstatSync } from 'node:fs';
import net from 'node:net';
import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import type { PeerIdentity, TransportConnection } from './types.js';
import { JoinedDuplex } from './joined-duplex.js';
import { arenaOnRead } from './arena-reader.js';
import { ZferryError } from '../platform/errors.js';
import { enlargePipe } from '../platform/kernel-buffers.js';

export interface StdioConnectionOptions {
  /** Who is on the other end (e.g. the identity an authorized_keys forced command named). */
  peer?: PeerIdentity;
  /** Default: true — see guardStdout(). */
  guard?: boolean | GuardStdoutOptions;
  /** For tests: streams standing in for process.stdin/process.stdout. */
  input?: Readable;
  output?: Writable;
}

export interface GuardStdoutOptions {
  /**
   * 'redirect' (default): stray writes to process.stdout and console.log/info/... go to stderr.
   * 'throw': they throw, to find the culprit during development.
   */
  mode?: 'redirect' | 'throw';
}

export class StdoutReservedError extends ZferryError {
  constructor() {
    super('STDOUT_RESERVED', 'stdout carries the RPC channel; write diagnostics to stderr');
  }
}

let activeGuard: (() => void) | undefined;

/**
 * In stdio mode, stdout carries frames: one stray console.log would corrupt the stream. From
 * here on `process.stdout` (the property) and the global console's stdout methods point to
 * stderr, or throw; the real stdout object stays reachable only to whoever took it before
 * (the stdio transport). Writes to fd 1 that bypass process.stdout (e.g. a logger opened on
 * fd 1) cannot be caught: loggers must use fd 2. Returns a function that undoes the guard.
 */
export function guardStdout(options: GuardStdoutOptions = {}): () => void {
  if (activeGuard) return activeGuard;
  const mode = options.mode ?? 'redirect';
  const original = Object.getOwnPropertyDescriptor(process, 'stdout');
  const replacement: Writable =
    mode === 'redirect'
      ? process.stderr
      : Object.assign(new Writable(), {
          write(): boolean {
            throw new StdoutReservedError();
          },
        });
  Object.defineProperty(process, 'stdout', { configurable: true, enumerable: original?.enumerable ?? true, get: () => replacement });

  const target = console as unknown as Record<string, unknown>;
  const saved = new Map<string, unknown>();
  const rerouted = mode === 'redirect' ? (new Console({ stdout: process.stderr, stderr: process.stderr }) as unknown as Record<string, unknown>) : undefined;
  // Every console method that prints to stdout (log, info, debug, dir, table, group, count, time...).
  for (const key of Object.keys(target)) {
    const current = target[key];
    if (typeof current !== 'function' || key === 'error' || key === 'warn' || key === 'trace' || key === 'assert') continue;
    saved.set(key, current);
    const substitute = rerouted?.[key];
    target[key] =
      typeof substitute === 'function'
        ? substitute
        : () => {
            throw new StdoutReservedError();
          };
  }

  const restore = (): void => {
    if (activeGuard !== restore) return;
    activeGuard = undefined;
    if (original) Object.defineProperty(process, 'stdout', original);
    for (const [key, fn] of saved) target[key] = fn;
  };
  activeGuard = restore;
  return restore;
}

/**
 * Our stdin as a Readable. When it is a pipe or a socket (ssh, a shell pipeline), fd 0 is
 * opened as a socket with arena reads (see arena-reader.ts) instead of going through
 * process.stdin, which would allocate a buffer per read; process.stdin must then stay unused.
 */
function stdinReader(): Readable {
  let kind: { isFIFO(): boolean; isSocket(): boolean } | undefined;
  try {
    kind = fstatSync(0);
  } catch {
    kind = undefined;
  }
  if (kind === undefined || !(kind.isFIFO() || kind.isSocket())) return process.stdin;
  // The constructor takes `onread` as connect() does (node >= 12.2); @types/node lacks it.
  const options: net.SocketConstructorOpts & { onread: net.OnReadOpts } = { fd: 0, readable: true, writable: false, onread: arenaOnRead(() => socket) };
  const socket: net.Socket = new net.Socket(options);
  return socket;
}

/**
 * This process's stdin/stdout as one connection (for `serve --stdio`, e.g. behind ssh).
 * EOF on stdin or EPIPE on stdout ends the connection cleanly.
 */
export function stdioConnection(options: StdioConnectionOptions = {}): TransportConnection {
  // Take the real stdout before the guard hides it.
  const output = options.output ?? process.stdout;
  const input = options.input ?? stdinReader();
  // Pipes (sshd's, a shell's) carry bulk streams in larger pieces with a bigger buffer; best
  // effort, in the background (see kernel-buffers.ts).
  if (options.input === undefined) void enlargePipe(0);
  if (options.output === undefined) void enlargePipe(1);
  const guard = options.guard ?? true;
  // The guard stays for the rest of the process: late output must not reach the peer either.
  if (guard !== false) guardStdout(guard === true ? {} : guard);
  const stream = new JoinedDuplex(input, output);
  const peer = options.peer ?? { transport: 'stdio', name: 'stdio', detail: 'stdin/stdout' };
  let closed = false;
  return {
    stream,
    peer,
    close() {
      if (closed) return;
      closed = true;
      stream.destroy();
    },
  };
}
