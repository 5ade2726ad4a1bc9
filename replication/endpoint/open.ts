/**
 * Opens the sides of a job from their specs (spec.ts): LocalRPC (direct calls, no framing) for
 * a dataset on this host, the framed RPC over ssh to `zferry serve --stdio` for a remote one,
 * or over tcp or mutual TLS to another daemon's sink or source job.
 * The CLI and the daemon open endpoints only through here.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import { deferredClient } from '../../rpc/deferred-client.js';
import { localClient } from '../../rpc/local.js';
import type { Client, ConnectedClient } from '../../rpc/index.js';
import { endpointContract, type EndpointContract } from '../contract.js';
import { defaultProbeCachePath, ZfsDriver, type ZfsCommandObserver } from '../zfs/index.js';
import { DestinationUnresolvedError, EndpointKindUnsupportedError } from './errors.js';
import { localIdentity, resolveSshIdentity, socketIdentity, type DestinationIdentity } from './identity.js';
import { REPLICATION_RPC_LIMITS } from './rpc-limits.js';
import type { EndpointSpec, LocalEndpointSpec, SshEndpointSpec, TcpEndpointSpec, TlsEndpointSpec } from './spec.js';
import { createZfsEndpoint } from './zfs-endpoint.js';

export interface OpenedEndpoint {
  readonly spec: EndpointSpec;
  readonly client: Client<EndpointContract>;
  /**
   * This side named as a replication destination (what its cursor tags derive from). Over ssh
   * it asks `ssh -G` (once): call it right after opening, so it runs beside the connection.
   */
  destination(): Promise<DestinationIdentity>;
  close(): Promise<void>;
}

export interface EndpointOpenerOptions {
  logger: Logger;
  /** Where the zfs driver caches its capability probes; default: the user's cache directory. */
  probeCacheFile?: string;
  /** This host's name in local destinations; default: os.hostname(). */
  hostname?: string;
  /** Told of every zfs/zpool command the local sides run (the daemon's metrics). */
  onZfsCommand?: ZfsCommandObserver;
}

/**
 * Opens endpoints for one caller (a CLI run, a daemon job). Its local sides share one zfs
 * driver, and with it the capability cache: a same-host job probes each pool once.
 */
export class EndpointOpener {
  readonly #options: EndpointOpenerOptions;
  #driver: ZfsDriver | undefined;

  constructor(options: EndpointOpenerOptions) {
    this.#options = options;
  }

  open(spec: EndpointSpec): OpenedEndpoint {
    switch (spec.kind) {
      case 'local':
        return this.#openLocal(spec);
      case 'ssh':
        return openSsh(spec, this.#options.logger);
      case 'tcp':
      case 'tls':
        return openSocket(spec, this.#options.logger);
      // A unix socket is how `zferry stdinserver` reaches its own daemon, never a job's side.
      case 'unix':
        throw new EndpointKindUnsupportedError(spec.kind);
    }
  }

  /** The zfs driver of this opener's local sides (a daemon's served clients share it too). */
  driver(): ZfsDriver {
    const onCommand = this.#options.onZfsCommand;
    this.#driver ??= new ZfsDriver({
      logger: this.#options.logger,
      probeCacheFile: this.#options.probeCacheFile ?? defaultProbeCachePath(),
      ...(onCommand !== undefined ? { onCommand } : {}),
    });
    return this.#driver;
  }

  #openLocal(spec: LocalEndpointSpec): OpenedEndpoint {
    const { logger } = this.#options;
    const client = localClient(
      endpointContract,
      createZfsEndpoint({ driver: this.driver(), logger, ...(spec.roots !== undefined ? { roots: spec.roots } : {}) }),
    );
    const destination = localIdentity(this.#options.hostname ?? os.hostname(), spec.dataset);
    return { spec, client, destination: () => Promise.resolve(destination), close: () => client.close() };
  }
}

function openSsh(spec: SshEndpointSpec, logger: Logger): OpenedEndpoint {
  // Connecting (ssh handshake, the remote zferry starting) takes a few hundred ms: the job
  // starts at once with a client that waits for the connection, so the local side's snapshot
  // and listing overlap with it. A failed connection fails the first call with its own error.
  const connecting = connectSsh(spec, logger);
  connecting.catch(() => undefined);
  let destination: Promise<DestinationIdentity> | undefined;
  return {
    spec,
    client: deferredClient(endpointContract, connecting),
    destination: () =>
      (destination ??= resolveSshIdentity(spec).catch(async (error: unknown) => {
        // ssh that cannot even read its configuration cannot connect either: its own error says more.
        await connecting;
        throw new DestinationUnresolvedError(spec.host, error);
      })),
    close: async () => {
      const client = await connecting.catch(() => undefined);
      await client?.close();
    },
  };
}

async function connectSsh(spec: SshEndpointSpec, logger: Logger): Promise<ConnectedClient<EndpointContract>> {
  // The network RPC (msgpack, framing, ssh) is loaded only for a remote side.
  const [{ connect }, { sshConnector }] = await Promise.all([import('../../rpc/client.js'), import('../../transport/ssh.js')]);
  const connector = sshConnector({
    host: spec.host,
    ...(spec.user !== undefined ? { user: spec.user } : {}),
    ...(spec.port !== undefined ? { port: spec.port } : {}),
    ...(spec.identityFile !== undefined ? { identityFile: spec.identityFile } : {}),
    ...(spec.configFile !== undefined ? { configFile: spec.configFile } : {}),
    options: spec.options,
    remoteCommand: spec.remoteCommand,
    onStderr: (text) => {
      for (const line of text.split('\n')) if (line.trim()) logger.debug({ host: spec.host }, `remote: ${line}`);
    },
  });
  const connection = await connector.connect();
  return connect(connection, endpointContract, { limits: REPLICATION_RPC_LIMITS });
}

/**
 * A side served by another daemon over tcp or tls. Like ssh, the job starts with a client that
 * waits for the connection; a refused TLS handshake (our certificate, the server's CN) fails the
 * first call with the transport's own error, before any call reaches the server.
 */
function openSocket(spec: TcpEndpointSpec | TlsEndpointSpec, logger: Logger): OpenedEndpoint {
  const connecting = connectSocket(spec, logger);
  connecting.catch(() => undefined);
  const destination = socketIdentity(spec.kind, spec.host, spec.port, spec.dataset);
  return {
    spec,
    client: deferredClient(endpointContract, connecting),
    destination: () => Promise.resolve(destination),
    close: async () => {
      const client = await connecting.catch(() => undefined);
      await client?.close();
    },
  };
}

async function connectSocket(spec: TcpEndpointSpec | TlsEndpointSpec, logger: Logger): Promise<ConnectedClient<EndpointContract>> {
  const [{ connect }, { dialed }] = await Promise.all([import('../../rpc/client.js'), import('./dial.js')]);
  const connection = await dialed(spec);
  logger.debug({ peer: connection.peer.detail ?? connection.peer.name }, 'connected');
  return connect(connection, endpointContract, { limits: REPLICATION_RPC_LIMITS });
}
