import type { Server, Socket } from 'node:net';
import type { ConnectionHandler, Listener, PeerIdentity, TransportConnection } from './types.js';
import { TransportError, errorMessage } from './errors.js';

/** Called for problems that concern one incoming connection, not the listener itself. */
export type ListenerErrorHandler = (err: TransportError) => void;

/** A TransportConnection over a socket: close() destroys it, at most once. */
export function socketConnection(socket: Socket, peer: PeerIdentity): TransportConnection {
  return {
    stream: socket,
    peer,
    close() {
      if (!socket.destroyed) socket.destroy();
    },
  };
}

/**
 * Owns a bound server: hands each accepted socket to `onConnection` and remembers it, so that
 * close() can stop accepting, tear down what is still open and resolve once all is closed.
 * Callers wanting a graceful drain close their RPC server first (GOAWAY), then the listener.
 */
export class SocketListener implements Listener {
  readonly address: string;
  readonly #server: Server;
  readonly #open = new Set<Socket>();
  #closing: Promise<void> | undefined;

  constructor(server: Server, address: string) {
    this.#server = server;
    this.address = address;
  }

  /** Register an accepted socket and hand it to the handler; a throwing handler drops it. */
  accept(socket: Socket, peer: PeerIdentity, onConnection: ConnectionHandler, onError?: ListenerErrorHandler): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#open.add(socket);
    socket.once('close', () => this.#open.delete(socket));
    try {
      onConnection(socketConnection(socket, peer));
    } catch (err) {
      socket.destroy();
      onError?.(new TransportError('CONNECT_FAILED', `connection handler failed for ${peer.name}: ${errorMessage(err)}`, { cause: err }));
    }
  }

  /** Track a socket that is not handed out yet (e.g. during a TLS handshake). */
  track(socket: Socket): void {
    this.#open.add(socket);
    socket.once('close', () => this.#open.delete(socket));
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      // server.close() calls back once every connection has closed; we destroy them below.
      this.#server.close(() => resolve());
      for (const socket of this.#open) socket.destroy();
    });
    return this.#closing;
  }
}

/** Bind `server` with `listen(options)` and turn bind failures into a TransportError. */
export function bindServer(server: Server, options: { host: string; port: number } | { path: string }, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new TransportError('LISTEN_FAILED', `cannot listen on ${what}: ${errorMessage(err)}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(options, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** A listener bound to a TCP address (tcp, tls): `port` is the real one when 0 was asked for. */
export class HostPortListener extends SocketListener {
  constructor(
    server: Server,
    readonly host: string,
    readonly port: number,
  ) {
    super(server, formatHostPort(host, port));
  }
}

/** Bind `server` to a TCP address; `kind` ('tcp', 'tls') names the listener in errors. */
export async function listenOnHostPort(server: Server, options: { host: string; port: number }, kind: string): Promise<HostPortListener> {
  await bindServer(server, { host: options.host, port: options.port }, `${kind} ${formatHostPort(options.host, options.port)}`);
  const bound = server.address();
  if (bound === null || typeof bound === 'string') {
    server.close();
    throw new TransportError('LISTEN_FAILED', `${kind} listener on ${options.host} has no TCP address`);
  }
  return new HostPortListener(server, bound.address, bound.port);
}

/** `host:port`, with brackets around IPv6 addresses. */
export function formatHostPort(host: string | undefined, port: number | undefined): string {
  const h = host ?? '?';
  return `${h.includes(':') ? `[${h}]` : h}:${port ?? '?'}`;
}
