/**
 * Opens the endpoint client for one side of a job: LocalRPC (direct calls, no framing) for a
 * local dataset, or the framed RPC over ssh to `zferry serve --stdio` on the remote host.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import { localClient } from '../rpc/local.js';
import { endpointContract } from '../replication/contract.js';
import { createZfsEndpoint } from '../replication/endpoint/zfs-endpoint.js';
import type { EndpointClient } from '../replication/job/types.js';
import { defaultProbeCachePath, ZfsDriver } from '../replication/zfs/index.js';
import { formatLocation, type Location } from './location.js';
import { REPLICATION_RPC_LIMITS } from './rpc-limits.js';

export interface SshSettings {
  identityFile?: string;
  options: string[];
  remoteCommand: string[];
}

export interface OpenedEndpoint {
  client: EndpointClient;
  /** Names this side in logs and cursor tags. */
  identity: string;
  close(): Promise<void>;
}

export { DEFAULT_REMOTE_COMMAND } from './remote-command.js';

/** One driver per process: both local sides of a job share its capability cache. */
let sharedDriver: ZfsDriver | undefined;

export async function openEndpoint(location: Location, ssh: SshSettings, logger: Logger): Promise<OpenedEndpoint> {
  if (location.kind === 'local') {
    sharedDriver ??= new ZfsDriver({ logger, probeCacheFile: defaultProbeCachePath() });
    const implementation = createZfsEndpoint({ driver: sharedDriver, logger });
    const client = localClient(endpointContract, implementation);
    return { client, identity: `${os.hostname()}:${location.dataset}`, close: () => client.close() };
  }
  // Connecting (ssh handshake, the remote zferry starting) takes a few hundred ms: the job
  // starts at once with a client that waits for the connection, so the local side's snapshot
  // and listing overlap with it. A failed connection fails the first call with its own error.
  const ready = connectRemote(location, ssh, logger);
  ready.catch(() => undefined);
  return {
    client: deferredClient(ready),
    identity: formatLocation(location),
    close: async () => {
      const client = await ready.catch(() => undefined);
      await client?.close();
    },
  };
}

async function connectRemote(location: Location & { kind: 'ssh' }, ssh: SshSettings, logger: Logger): Promise<EndpointClient & { close(): Promise<void> }> {
  // The network RPC (msgpack, framing, ssh) is loaded only for a remote side.
  const [{ connect }, { sshConnector }] = await Promise.all([import('../rpc/client.js'), import('../transport/ssh.js')]);
  const connector = sshConnector({
    host: location.host,
    ...(location.user !== undefined ? { user: location.user } : {}),
    ...(location.port !== undefined ? { port: location.port } : {}),
    ...(ssh.identityFile !== undefined ? { identityFile: ssh.identityFile } : {}),
    options: ssh.options,
    remoteCommand: ssh.remoteCommand,
    onStderr: (text) => {
      for (const line of text.split('\n')) if (line.trim()) logger.debug({ host: location.host }, `remote: ${line}`);
    },
  });
  const connection = await connector.connect();
  return connect(connection, endpointContract, { limits: REPLICATION_RPC_LIMITS });
}

/** An endpoint client whose every call first waits for `ready`. */
function deferredClient(ready: Promise<EndpointClient>): EndpointClient {
  const methods = Object.keys(endpointContract.endpoints) as (keyof EndpointClient)[];
  const client: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of methods) {
    client[name as string] = async (...args: unknown[]) => {
      const target = (await ready) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const method = target[name as string];
      if (!method) throw new TypeError(`endpoint client has no ${String(name)}`);
      return method.apply(target, args);
    };
  }
  return client as unknown as EndpointClient;
}
