/**
 * Connected transport pairs for RPC tests: real TCP sockets on 127.0.0.1 (port 0), unix
 * sockets under os.tmpdir(), and in-memory duplex pairs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import type { PeerIdentity, TransportConnection } from '../../rpc/transport/types.js';

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

async function pairOver(listenArgs: net.ListenOptions, connectArgs: () => net.NetConnectOpts, transport: 'tcp' | 'unix', cleanup: () => Promise<void>): Promise<TransportPair> {
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenArgs, () => resolve());
  });
  const clientSocket = net.connect(connectArgs());
  await new Promise<void>((resolve, reject) => {
    clientSocket.once('connect', resolve);
    clientSocket.once('error', reject);
  });
  const serverSocket = await accepted;
  server.close();
  for (const socket of [clientSocket, serverSocket]) socket.setNoDelay(true);
  const client = socketConnection(clientSocket, { transport, name: `${transport}-server` });
  const serverEnd = socketConnection(serverSocket, { transport, name: `${transport}-client` });
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

export async function tcpPair(): Promise<TransportPair> {
  let port = 0;
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  port = address.port;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const clientSocket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    clientSocket.once('connect', resolve);
    clientSocket.once('error', reject);
  });
  const serverSocket = await accepted;
  server.close();
  for (const socket of [clientSocket, serverSocket]) socket.setNoDelay(true);
  const client = socketConnection(clientSocket, { transport: 'tcp', name: `127.0.0.1:${port}` });
  const serverEnd = socketConnection(serverSocket, { transport: 'tcp', name: `127.0.0.1:${clientSocket.localPort ?? 0}` });
  return {
    client,
    server: serverEnd,
    async close() {
      client.close();
      serverEnd.close();
    },
  };
}

export async function unixPair(): Promise<TransportPair> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-rpc-'));
  const socketPath = path.join(dir, 'rpc.sock');
  return pairOver({ path: socketPath }, () => ({ path: socketPath }), 'unix', () => rm(dir, { recursive: true, force: true }));
}

/** One end of an in-memory pipe: what is written to it is read from the other end. */
class MemoryEnd extends Duplex {
  other: MemoryEnd | undefined;
  tap: ((chunk: Buffer) => void) | undefined;
  #pendingWrite: (() => void) | undefined;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.tap?.(chunk);
    const other = this.other;
    if (other === undefined || other.destroyed) {
      callback(new Error('peer is gone'));
      return;
    }
    if (other.push(chunk)) callback();
    else other.#pendingWrite = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.other?.push(null);
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
}

/** An in-memory duplex pair with backpressure (no sockets). */
export function memoryPair(options: MemoryPairOptions = {}): TransportPair {
  const a = new MemoryEnd({ allowHalfOpen: true });
  const b = new MemoryEnd({ allowHalfOpen: true });
  a.tap = options.clientTap;
  b.tap = options.serverTap;
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
