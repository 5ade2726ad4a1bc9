/**
 * RpcConnection: the public face of one multiplexed connection. Either side may call the other
 * (client(contract)) and serve calls (register(contract, impl)); connect() and RpcServer.serve()
 * create one for each end.
 */
import type { Logger } from 'pino';
import type { Readable } from 'node:stream';
import { buildClient } from './client-proxy.js';
import { wireEndpointName } from './contract.js';
import type { AnyEndpointDef, CallOptions, Client, Contract, Implementation } from './contract.js';
import { cancelledBy } from './call-scope.js';
import type { RpcError } from './errors.js';
import { IncomingCall } from './incoming-call.js';
import { resolveLimits } from './limits.js';
import type { RpcLimits } from './limits.js';
import type { MessageBudget } from './message-budget.js';
import { Multiplexer } from './mux.js';
import { OutgoingCall } from './outgoing-call.js';
import { HandlerRegistry } from './registry.js';
import type { RpcStream } from './stream.js';
import type { PeerIdentity, TransportConnection } from '../transport/types.js';
import type { ConnectionRole, Hello, RequestHeaders } from './wire.js';

export interface ConnectionOptions {
  limits?: Partial<RpcLimits>;
  logger?: Logger;
  /** A name for this side, sent to the peer in HELLO (for its logs). */
  identity?: string;
}

export interface RpcConnectionInit extends ConnectionOptions {
  /** 'initiator' for the side that opened the transport (odd stream ids), else 'acceptor'. */
  role: ConnectionRole;
  /** Handlers for calls the peer makes; the connection adds its own on top (register()). */
  registry?: HandlerRegistry;
  /** A budget for unfinished messages shared with other connections (a server's), on top of the connection's own. */
  sharedMessageBudget?: MessageBudget;
}

export interface ConnectionStats {
  openStreams: number;
  outgoingCalls: number;
  incomingCalls: number;
  /** Calls waiting for the HELLO or for a stream slot under the peer's limit. */
  waitingCalls: number;
  bytesWritten: number;
  /** Bytes of unfinished incoming MESSAGE bodies held (bounded by limits.maxBufferedMessageBytes). */
  bufferedMessageBytes: number;
}

export class RpcConnection {
  /** Who is on the other end, as the transport established it. */
  readonly peer: PeerIdentity;
  /** Resolves when both HELLOs are exchanged; rejects with why the connection could not start. */
  readonly ready: Promise<void>;
  /** Resolves when the connection is closed, for whatever reason (see closeError). */
  readonly closed: Promise<void>;
  readonly #mux: Multiplexer;
  readonly #registry: HandlerRegistry;
  readonly #logger: Logger | undefined;
  readonly #outgoing = new Set<OutgoingCall>();
  readonly #incoming = new Set<IncomingCall>();

  constructor(transport: TransportConnection, init: RpcConnectionInit) {
    this.peer = transport.peer;
    this.#logger = init.logger;
    this.#registry = new HandlerRegistry(init.registry);
    this.#mux = new Multiplexer(transport, {
      role: init.role,
      limits: resolveLimits(init.limits),
      identity: init.identity,
      logger: init.logger,
      sharedMessageBudget: init.sharedMessageBudget,
      onIncomingStream: (stream, headers) => this.#serve(stream, headers),
    });
    this.ready = this.#mux.ready;
    this.closed = this.#mux.closed;
  }

  /** Why the connection closed; undefined while open and after a clean close. */
  get closeError(): RpcError | undefined {
    return this.#mux.closeError;
  }

  get isClosed(): boolean {
    return this.#mux.isClosed;
  }

  /** What the peer announced in its HELLO (after ready). */
  get peerHello(): Hello | undefined {
    return this.#mux.peerHello;
  }

  get openStreamCount(): number {
    return this.#mux.openStreamCount;
  }

  /** Calls in progress either way, including byte streams still flowing and handlers still running. */
  get activeCallCount(): number {
    return this.#outgoing.size + this.#incoming.size;
  }

  get stats(): ConnectionStats {
    return {
      openStreams: this.#mux.openStreamCount,
      outgoingCalls: this.#outgoing.size,
      incomingCalls: this.#incoming.size,
      waitingCalls: this.#mux.waitingCallCount,
      bytesWritten: this.#mux.bytesWritten,
      bufferedMessageBytes: this.#mux.bufferedMessageBytes,
    };
  }

  /** A typed client calling the peer over this connection. */
  client<C extends Contract>(contract: C): Client<C> {
    return buildClient(contract, (name, def, request, stream, options) => this.call(wireEndpointName(contract, name), def, request, stream, options));
  }

  /** Serve `contract` to the peer on this connection. */
  register<C extends Contract>(contract: C, implementation: Implementation<C>): void {
    this.#registry.register(contract, implementation);
  }

  /** One call by wire endpoint name (the typed client is the usual way in). */
  call(wireName: string, def: AnyEndpointDef, request: unknown, stream: Readable | undefined, options: CallOptions | undefined): Promise<unknown> {
    const call = new OutgoingCall({
      mux: this.#mux,
      wireName,
      def,
      request,
      requestStream: stream,
      options,
      onFinished: (done) => this.#outgoing.delete(done),
    });
    this.#outgoing.add(call);
    call.start();
    return call.promise;
  }

  /** Round-trip time to the peer, in milliseconds. */
  ping(): Promise<number> {
    return this.#mux.ping();
  }

  /**
   * Graceful close: GOAWAY (no new calls either way; calls not yet started fail with
   * RpcGoawayError), the calls in progress finish, then the transport is closed.
   */
  close(): Promise<void> {
    return this.#mux.goaway();
  }

  /** Close at once: calls in progress fail with `error` (default RpcConnectionLostError). */
  destroy(error?: Error): void {
    this.#mux.destroy(error);
  }

  #serve(stream: RpcStream, headers: RequestHeaders): void {
    const call = new IncomingCall({
      mux: this.#mux,
      stream,
      headers,
      registry: this.#registry,
      peer: this.peer,
      logger: this.#logger,
      onFinished: (done) => this.#incoming.delete(done),
    });
    stream.events = call;
    this.#incoming.add(call);
    call.start();
  }
}

/** Wait for `connection.ready`; if `signal` aborts first, tear the connection down (RpcCancelledError). */
export async function awaitReady(connection: RpcConnection, signal?: AbortSignal): Promise<void> {
  const onAbort = (): void => {
    if (signal !== undefined) connection.destroy(cancelledBy(signal));
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await connection.ready;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
