/**
 * Connected transport pairs for RPC tests: real TCP sockets on 127.0.0.1 (port 0), unix
 * sockets under os.tmpdir(), and in-memory duplex pairs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import type { PeerIdentity, TransportConnection } from '../../transport/types.js';

export interface TransportPair {
  client: TransportConnection;
  server: TransportConnection;
  /** Destroys both ends and releases the listener. */
  close(): Promise<void>;
}

function socketConnection(socket: net.Socket, peer: PeerIdentity): TransportConnection {
  return {
    stream: socket,
    peer,
    close() {
      if (!socket.destroyed) socket.destroy();
    },
  };
}

/** Listen with `listen`, connect with `connectTo(server)`, and return both ends. */
async function socketPair(
  listen: net.ListenOptions,
  connectTo: (server: net.Server) => net.NetConnectOpts,
  names: (client: net.Socket) => { client: PeerIdentity; server: PeerIdentity },
  cleanup: () => Promise<void> = async () => {},
): Promise<TransportPair> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen, () => resolve());
  });
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const clientSocket = net.connect(connectTo(server));
  try {
    await new Promise<void>((resolve, reject) => {
      clientSocket.once('connect', resolve);
      clientSocket.once('error', reject);
    });
  } finally {
    server.close();
  }
  const serverSocket = await accepted;
  for (const socket of [clientSocket, serverSocket]) socket.setNoDelay(true);
  const peers = names(clientSocket);
  const client = socketConnection(clientSocket, peers.client);
  const serverEnd = socketConnection(serverSocket, peers.server);
  return {
    client,
    server: serverEnd,
    async close() {
      client.close();
      serverEnd.close();
      await cleanup();
    },
  };
}

export function tcpPair(): Promise<TransportPair> {
  let port = 0;
  return socketPair(
    { host: '127.0.0.1', port: 0 },
    (server) => {
      port = (server.address() as net.AddressInfo).port;
      return { host: '127.0.0.1', port };
    },
    (client) => ({
      client: { transport: 'tcp', name: `127.0.0.1:${port}` },
      server: { transport: 'tcp', name: `127.0.0.1:${client.localPort ?? 0}` },
    }),
  );
}

export async function unixPair(): Promise<TransportPair> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-rpc-'));
  const socketPath = path.join(dir, 'rpc.sock');
  return socketPair(
    { path: socketPath },
    () => ({ path: socketPath }),
    () => ({ client: { transport: 'unix', name: socketPath }, server: { transport: 'unix', name: 'unix-client' } }),
    () => rm(dir, { recursive: true, force: true }),
  );
}

/** One end of an in-memory pipe: what is written to it is read from the other end. */
class MemoryEnd extends Duplex {
  other: MemoryEnd | undefined;
  tap: ((chunk: Buffer) => void) | undefined;
  /** One-way latency: bytes arrive this long after they were written (a long link). */
  delayMs = 0;
  #pendingWrite: (() => void) | undefined;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.tap?.(chunk);
    const other = this.other;
    if (other === undefined || other.destroyed) {
      callback(new Error('peer is gone'));
      return;
    }
    if (this.delayMs > 0) {
      // A link with latency: taken at once, delivered later, in order (flow control bounds it).
      setTimeout(() => other.destroyed || other.push(chunk), this.delayMs);
      callback();
      return;
    }
    if (other.push(chunk)) callback();
    else other.#pendingWrite = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    const other = this.other;
    if (this.delayMs > 0) setTimeout(() => other?.destroyed || other?.push(null), this.delayMs);
    else other?.push(null);
    callback();
  }

  override _read(): void {
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    pending?.();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const other = this.other;
    if (other !== undefined && !other.destroyed) other.destroy();
    callback(error);
  }
}

export interface MemoryPairOptions {
  /** Sees every chunk the client end writes (e.g. to record the wire bytes). */
  clientTap?: (chunk: Buffer) => void;
  serverTap?: (chunk: Buffer) => void;
  /** One-way latency in each direction. */
  delayMs?: number;
}

/** An in-memory duplex pair with backpressure (no sockets). */
export function memoryPair(options: MemoryPairOptions = {}): TransportPair {
  const a = new MemoryEnd({ allowHalfOpen: true });
  const b = new MemoryEnd({ allowHalfOpen: true });
  a.tap = options.clientTap;
  b.tap = options.serverTap;
  a.delayMs = b.delayMs = options.delayMs ?? 0;
  a.other = b;
  b.other = a;
  const wrap = (end: MemoryEnd, name: string): TransportConnection => ({
    stream: end,
    peer: { transport: 'pipe', name },
    close() {
      if (!end.destroyed) end.destroy();
    },
  });
  const client = wrap(a, 'memory-server');
  const server = wrap(b, 'memory-client');
  return {
    client,
    server,
    async close() {
      client.close();
      server.close();
    },
  };
}
