/**
 * A stdinserver listener (daemon/serving/stdinserver-listener.ts) serving the real endpoint
 * contract as `zferry serve --stdio` does, each identity confined to `rootFs/<identity>`: what a
 * sink job of the daemon does, without the daemon (tests and bench/stdinserver.ts).
 */
import type { Logger } from 'pino';
import pino from 'pino';
import { listenStdinserver, type StdinserverListener } from '../../daemon/serving/stdinserver-listener.js';
import { RpcServer } from '../../rpc/server.js';
import { endpointContract } from '../../replication/contract.js';
import { createZfsEndpoint } from '../../replication/endpoint/zfs-endpoint.js';
import { REPLICATION_RPC_LIMITS } from '../../replication/endpoint/rpc-limits.js';
import { ZfsDriver } from '../../replication/zfs/index.js';

export interface StdinserverSink {
  readonly listener: StdinserverListener;
  /** The identity of every connection accepted so far, in order. */
  readonly accepted: string[];
  close(): Promise<void>;
}

export async function startStdinserverSink(options: {
  sockdir: string;
  rootFs: string;
  identities: readonly string[];
  logger?: Logger;
}): Promise<StdinserverSink> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const driver = new ZfsDriver({ logger });
  const servers = new Map<string, RpcServer>();
  for (const identity of options.identities) {
    const server = new RpcServer({ logger, limits: REPLICATION_RPC_LIMITS });
    server.register(endpointContract, createZfsEndpoint({ driver, logger, roots: [`${options.rootFs}/${identity}`] }));
    servers.set(identity, server);
  }
  const accepted: string[] = [];
  const listener = await listenStdinserver({
    sockdir: options.sockdir,
    job: { name: 'sink' },
    identities: options.identities,
    logger,
    onConnection: (connection, identity) => {
      accepted.push(identity);
      const server = servers.get(identity);
      if (server === undefined) throw new Error(`no server for identity ${identity}`);
      server.serve(connection);
    },
  });
  return {
    listener,
    accepted,
    async close() {
      await Promise.all([...servers.values()].map((server) => server.close()));
      await listener.close();
    },
  };
}
