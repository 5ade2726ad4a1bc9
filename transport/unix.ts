import net from 'node:net';
import { chmod, lstat, unlink } from 'node:fs/promises';
import type { Connector, ConnectionHandler, Listener, TransportConnection } from './types.js';
import { TransportError, errorMessage, errorCode } from './errors.js';
import { arenaOnRead, startArenaReads } from './arena-reader.js';
import { awaitSocketReady, connectFailed } from './socket-connect.js';
import { SocketListener, bindServer, socketConnection } from './socket-listener.js';
import type { ListenerErrorHandler } from './socket-listener.js';

export interface UnixAddress {
  path: string;
}

export interface UnixListenOptions extends UnixAddress {
  /** File mode applied to the socket right after binding (e.g. 0o600); default: umask. */
  mode?: number;
  onError?: ListenerErrorHandler;
}

export interface UnixListener extends Listener {
  readonly path: string;
}

/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

function checkPath(path: string): void {
  if (path.length === 0 || path.includes('\0')) {
    throw new TransportError('INVALID_ARGUMENT', `invalid unix socket path: ${JSON.stringify(path)}`);
  }
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new TransportError('INVALID_ARGUMENT', `unix socket path is longer than ${MAX_SOCKET_PATH_BYTES} bytes: ${path}`);
  }
}

export function unixConnector(address: UnixAddress): Connector {
  checkPath(address.path);
  return {
    async connect(signal?: AbortSignal): Promise<TransportConnection> {
      // Reads go into arenas (see arena-reader.ts); the callback needs the socket it feeds.
      const socket: net.Socket = net.connect({ path: address.path, onread: arenaOnRead(() => socket) });
      await awaitSocketReady(socket, 'connect', (err) => connectFailed(`unix socket ${address.path}`, err), signal);
      return socketConnection(socket, { transport: 'unix', name: address.path, detail: `unix socket ${address.path}` });
    },
  };
}

/** Whether something answers on the socket file at `path`. */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * A socket file left behind by a crashed server makes bind fail with EADDRINUSE. Remove it
 * only when it is a socket and nobody answers on it: never delete a regular file that happens
 * to have the configured name, and never steal the path of a server that is running.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let stat;
  try {
    stat = await lstat(path);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return;
    throw new TransportError('LISTEN_FAILED', `cannot inspect ${path}: ${errorMessage(err)}`, { cause: err });
  }
  if (!stat.isSocket()) {
    throw new TransportError('LISTEN_FAILED', `cannot listen on ${path}: it exists and is not a socket (refusing to remove it)`);
  }
  if (await socketIsLive(path)) {
    throw new TransportError('LISTEN_FAILED', `cannot listen on ${path}: another server is accepting connections there`);
  }
  try {
    await unlink(path);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') {
      throw new TransportError('LISTEN_FAILED', `cannot remove stale socket ${path}: ${errorMessage(err)}`, { cause: err });
    }
  }
}

class BoundUnixListener extends SocketListener implements UnixListener {
  constructor(
    server: net.Server,
    readonly path: string,
  ) {
    super(server, path);
  }
}

/** Listen on a unix socket; the socket file is removed again when the listener closes. */
export async function listenUnix(options: UnixListenOptions, onConnection: ConnectionHandler): Promise<UnixListener> {
  const { path } = options;
  checkPath(path);
  await removeStaleSocket(path);
  // Paused, so that arena reads are installed before the first read (see arena-reader.ts).
  const server = net.createServer({ pauseOnConnect: true });
  await bindServer(server, { path }, `unix socket ${path}`);
  const listener = new BoundUnixListener(server, path);
  if (options.mode !== undefined) {
    try {
      await chmod(path, options.mode);
    } catch (err) {
      await listener.close();
      throw new TransportError('LISTEN_FAILED', `cannot chmod ${path}: ${errorMessage(err)}`, { cause: err });
    }
  }
  server.on('error', (err) => options.onError?.(new TransportError('CONNECT_FAILED', `unix listener ${path}: ${err.message}`, { cause: err })));
  server.on('connection', (socket: net.Socket) => {
    startArenaReads(socket);
    listener.accept(socket, { transport: 'unix', name: path, detail: `unix socket ${path}` }, onConnection, options.onError);
  });
  return listener;
}
