/** A served test contract and a connected client over a real transport pair, for RPC tests. */
import { RpcServer, connect } from '../../rpc/index.js';
import type { ConnectedClient, RpcConnection, RpcLimits } from '../../rpc/index.js';
import { memoryPair, tcpPair, unixPair } from './rpc-pair.js';
import type { TransportPair } from './rpc-pair.js';
import { emptyObservations, testContract, testImplementation } from './rpc-test-contract.js';
import type { TestContract, TestObservations } from './rpc-test-contract.js';

/** 'long-link': in memory, 5 ms each way (a credit round trip of 10 ms). */
export type TransportKind = 'tcp' | 'unix' | 'memory' | 'long-link';

export interface NetworkSetup {
  client: ConnectedClient<TestContract>;
  server: RpcServer;
  serverConnection: RpcConnection;
  observed: TestObservations;
  pair: TransportPair;
  /** Calls in progress on both ends. */
  activeCalls(): number;
  close(): Promise<void>;
}

export async function openPair(kind: TransportKind): Promise<TransportPair> {
  if (kind === 'tcp') return tcpPair();
  if (kind === 'unix') return unixPair();
  return memoryPair(kind === 'long-link' ? { delayMs: 5 } : {});
}

export async function startNetwork(
  kind: TransportKind,
  options: { serverLimits?: Partial<RpcLimits>; clientLimits?: Partial<RpcLimits> } = {},
): Promise<NetworkSetup> {
  const pair = await openPair(kind);
  const observed = emptyObservations();
  const server = new RpcServer(options.serverLimits ? { limits: options.serverLimits } : {});
  server.register(testContract, testImplementation(observed));
  const serverConnection = server.serve(pair.server);
  const client = await connect(pair.client, testContract, options.clientLimits ? { limits: options.clientLimits } : {});
  return {
    client,
    server,
    serverConnection,
    observed,
    pair,
    activeCalls: () =>
      client.connection.activeCallCount + serverConnection.activeCallCount + client.connection.openStreamCount + serverConnection.openStreamCount,
    async close() {
      // A test that failed half-way leaves calls running: do not wait for them.
      if (client.connection.activeCallCount + serverConnection.activeCallCount > 0) client.connection.destroy();
      await client.close();
      await server.close();
      await pair.close();
    },
  };
}
