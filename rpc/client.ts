/** connect(): the calling end of a network connection, typed by a contract. */
import type { Client, Contract } from './contract.js';
import { RpcConnection, awaitReady } from './connection.js';
import type { ConnectionOptions } from './connection.js';
import type { TransportConnection } from '../transport/types.js';

export interface ConnectOptions extends ConnectionOptions {
  /** Gives up waiting for the peer's HELLO (the connection is torn down). */
  signal?: AbortSignal;
}

export type ConnectedClient<C extends Contract> = Client<C> & {
  /** Graceful close: calls in progress finish first. */
  close(): Promise<void>;
  connection: RpcConnection;
};

/**
 * Speak RPC over a freshly opened transport connection (this side is the initiator) and
 * return a client for `contract`. Resolves once the HELLO exchange succeeded; rejects with
 * RpcProtocolError (not a zferry peer, version mismatch) or RpcConnectionLostError.
 */
export async function connect<C extends Contract>(transport: TransportConnection, contract: C, options: ConnectOptions = {}): Promise<ConnectedClient<C>> {
  const { signal, ...connectionOptions } = options;
  const connection = new RpcConnection(transport, { ...connectionOptions, role: 'initiator' });
  await awaitReady(connection, signal);
  const client = connection.client(contract);
  return Object.assign(client, { close: () => connection.close(), connection });
}
