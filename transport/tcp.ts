import net from 'node:net';
import type { Connector, ConnectionHandler, Listener, TransportConnection } from './types.js';
import { TransportError } from './errors.js';
import { DEFAULT_ARENA_BYTES, MIN_READ_BYTES, ReadArena, TCP_MAX_READ_BYTES, arenaOnRead, startArenaReads } from './arena-reader.js';
import { awaitSocketReady, connectFailed } from './socket-connect.js';
import { formatHostPort, listenOnHostPort, socketConnection } from './socket-listener.js';
import type { ListenerErrorHandler } from './socket-listener.js';

function tcpReadArena(): ReadArena {
  return new ReadArena(DEFAULT_ARENA_BYTES, MIN_READ_BYTES, TCP_MAX_READ_BYTES);
}

export interface TcpAddress {
  host: string;
  /** 0 picks a free port when listening. */
  port: number;
}

export interface TcpListenOptions extends TcpAddress {
  /** Problems with single incoming connections (they are dropped); the listener keeps running. */
  onError?: ListenerErrorHandler;
}

export interface TcpListener extends Listener {
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
}

/** Keepalive lets the kernel notice a vanished peer even when the RPC layer is idle. */
const KEEPALIVE_MS = 30_000;

function tuneSocket(socket: net.Socket): void {
  // Frames are written header-then-payload; Nagle would hold small frames back.
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEPALIVE_MS);
}

function checkPort(port: number, allowZero: boolean): void {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new TransportError('INVALID_ARGUMENT', `invalid TCP port: ${String(port)}`);
  }
}

export function tcpConnector(address: TcpAddress): Connector {
  checkPort(address.port, false);
  const target = formatHostPort(address.host, address.port);
  return {
    async connect(signal?: AbortSignal): Promise<TransportConnection> {
      // Reads go into arenas (see arena-reader.ts); the callback needs the socket it feeds.
      const socket: net.Socket = net.connect({ host: address.host, port: address.port, onread: arenaOnRead(() => socket, tcpReadArena()) });
      await awaitSocketReady(socket, 'connect', (err) => connectFailed(`tcp ${target}`, err), signal);
      tuneSocket(socket);
      return socketConnection(socket, { transport: 'tcp', name: target, detail: `tcp to ${target}` });
    },
  };
}

export async function listenTcp(options: TcpListenOptions, onConnection: ConnectionHandler): Promise<TcpListener> {
  checkPort(options.port, true);
  // Paused, so that arena reads are installed before the first read (see arena-reader.ts).
  const server = net.createServer({ pauseOnConnect: true });
  const listener = await listenOnHostPort(server, options, 'tcp');
  const address = listener.address;
  server.on('error', (err) => options.onError?.(new TransportError('CONNECT_FAILED', `tcp listener ${address}: ${err.message}`, { cause: err })));
  server.on('connection', (socket: net.Socket) => {
    tuneSocket(socket);
    startArenaReads(socket, tcpReadArena());
    const name = formatHostPort(socket.remoteAddress, socket.remotePort);
    listener.accept(socket, { transport: 'tcp', name, detail: `tcp from ${name} to ${address}` }, onConnection, options.onError);
  });
  return listener;
}
