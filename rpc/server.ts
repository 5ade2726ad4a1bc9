/** RpcServer: serves registered contracts on every connection handed to serve(). */
import type { Logger } from 'pino';
import type { Contract, Implementation } from './contract.js';
import { RpcConnection } from './connection.js';
import { DEFAULT_SERVER_MESSAGE_BUDGET, resolveLimits } from './limits.js';
import type { RpcLimits } from './limits.js';
import { MessageBudget } from './message-budget.js';
import { HandlerRegistry } from './registry.js';
import { errorMessage } from './errors.js';
import type { TransportConnection } from '../transport/types.js';

export interface RpcServerOptions {
  limits?: Partial<RpcLimits>;
  logger?: Logger;
  /** A name for this server, sent to clients in HELLO (for their logs). */
  identity?: string;
  /**
   * Most bytes of unfinished MESSAGE bodies held across all connections (each connection also
   * has its own limits.maxBufferedMessageBytes). Default DEFAULT_SERVER_MESSAGE_BUDGET (48 MiB);
   * never below limits.maxMessageBytes.
   */
  maxBufferedMessageBytes?: number;
  /**
   * The budget to share instead of one of this server's own: a process serving each client with
   * its own RpcServer (a daemon: one endpoint per authenticated identity) keeps one bound for all.
   */
  sharedMessageBudget?: MessageBudget;
}

export class RpcServer {
  readonly #registry = new HandlerRegistry();
  readonly #connections = new Set<RpcConnection>();
  readonly #options: RpcServerOptions;
  /** Shared by every connection served: see message-budget.ts. */
  readonly #messageBudget: MessageBudget;
  #closing: Promise<void> | undefined;

  constructor(options: RpcServerOptions = {}) {
    const limits = resolveLimits(options.limits); // fail here, not on the first connection
    this.#options = options;
    this.#messageBudget =
      options.sharedMessageBudget ??
      new MessageBudget(Math.max(options.maxBufferedMessageBytes ?? DEFAULT_SERVER_MESSAGE_BUDGET, limits.maxMessageBytes), 'server');
  }

  register<C extends Contract>(contract: C, implementation: Implementation<C>): void {
    this.#registry.register(contract, implementation);
  }

  /** Connections currently open. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  get connections(): ReadonlySet<RpcConnection> {
    return this.#connections;
  }

  /** Bytes of unfinished incoming MESSAGE bodies held across all connections. */
  get bufferedMessageBytes(): number {
    return this.#messageBudget.used;
  }

  /** Speak RPC on an accepted transport connection (HELLO, then calls) until it closes. */
  serve(transport: TransportConnection): RpcConnection {
    const { limits, logger, identity } = this.#options;
    const connection = new RpcConnection(transport, {
      role: 'acceptor',
      registry: this.#registry,
      sharedMessageBudget: this.#messageBudget,
      ...(limits !== undefined && { limits }),
      ...(logger !== undefined && { logger }),
      ...(identity !== undefined && { identity }),
    });
    this.#connections.add(connection);
    void connection.closed.then(() => this.#connections.delete(connection));
    connection.ready.then(
      () => logger?.debug({ peer: transport.peer.name }, 'rpc client connected'),
      (error: unknown) => logger?.info({ peer: transport.peer.name, err: errorMessage(error) }, 'rpc connection failed to start'),
    );
    // A server shutting down still answers HELLO, then refuses calls with GOAWAY.
    if (this.#closing !== undefined) void connection.close();
    return connection;
  }

  /** GOAWAY to every connection; resolves when the calls in progress have finished and all are closed. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([...this.#connections].map((connection) => connection.close())).then(() => undefined);
    return this.#closing;
  }
}
