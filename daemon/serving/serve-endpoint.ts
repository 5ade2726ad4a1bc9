/**
 * The endpoint a sink or source job serves to one authenticated client, and serving it on one
 * connection. Every listener (tcp, tls, the stdinserver sockets) authenticates first, then hands
 * the connection here with the identity it established; nothing here trusts the client further.
 *
 *   - a sink confines the client to `root_fs/<identity>` (with `path_mapping: one_to_one`, to
 *     `root_fs` itself: such a sink takes one client), whatever it asks;
 *   - a source exposes the roots of its `filesystems` filter, and (once the endpoint takes it)
 *     exactly the filter: a filesystem the filter excludes below a root is neither listed nor sent.
 * The `session` call tells the client its identity and roots: a push plans below them. A sink
 * session holds the host's target lock on its root while it writes (session-lock.ts).
 */
import type { Logger } from 'pino';
import type { SinkJob, SourceJob } from '../../config/types.js';
import { endpointContract, type EndpointContract } from '../../replication/contract.js';
import { createZfsEndpoint } from '../../replication/endpoint/zfs-endpoint.js';
import { ServedRootNotFoundError } from '../../replication/endpoint/errors.js';
import { throttleEndpoint, type EndpointBuckets } from '../../replication/endpoint/throttled-endpoint.js';
import { REPLICATION_RPC_LIMITS } from '../../replication/endpoint/rpc-limits.js';
import type { ZfsDriver } from '../../replication/zfs/index.js';
import type { Implementation } from '../../rpc/index.js';
import { RpcServer } from '../../rpc/server.js';
import { MessageBudget } from '../../rpc/message-budget.js';
import { DEFAULT_SERVER_MESSAGE_BUDGET, resolveLimits } from '../../rpc/limits.js';
import type { TransportConnection } from '../../transport/types.js';
import { errorMessage } from '../../platform/errors.js';
import { localIdentity } from '../../replication/endpoint/identity.js';
import { selectionOf } from '../selection.js';
import { sessionLock, type SessionLock } from './session-lock.js';
import type { ConnectionRegistry, ServedTransport } from './connection-registry.js';

export type ServedJob = SinkJob | SourceJob;

/** What every served connection of a daemon shares. */
export interface ServeContext {
  /** The daemon's logger: each connection logs with its job, identity, peer and transport. */
  logger: Logger;
  /** One zfs driver for every client (one capability probe per pool). */
  driver: ZfsDriver;
  registry: ConnectionRegistry;
  /** This host's name: a sink session locks `local://<hostname>/<root>` as local runs name it. */
  hostname: string;
  /**
   * The job's bandwidth buckets (a sink's `recv.bandwidth_limit`, a source's `send.…`), one per
   * job, shared by all its clients and listeners; listeners.ts keeps them. Absent: unpaced.
   */
  buckets?: (job: ServedJob) => EndpointBuckets;
  /**
   * Unfinished request bytes held across every served connection (rpc/message-budget.ts): each
   * client has its own RpcServer, the bound is the daemon's. Absent: per connection only.
   */
  messageBudget?: MessageBudget;
}

/** A client's connection being served: close() says GOAWAY and resolves once its calls ended. */
export interface ServedSession {
  readonly job: string;
  readonly identity: string;
  readonly closed: Promise<void>;
  close(): Promise<void>;
  /** Tears the connection down at once (calls in progress fail; a receive leaves its target as it was). */
  destroy(): void;
}

/** The one bound on unfinished request bytes across a daemon's served connections (48 MiB, as a `zferry serve`). */
export function servedMessageBudget(): MessageBudget {
  return new MessageBudget(Math.max(DEFAULT_SERVER_MESSAGE_BUDGET, resolveLimits(REPLICATION_RPC_LIMITS).maxMessageBytes), 'server');
}

/** Where a client of `job` known as `identity` may act: the roots its endpoint is confined to. */
export function servedRoots(job: ServedJob, identity: string): string[] {
  if (job.type === 'sink') return [job.pathMapping === 'one_to_one' ? job.rootFs : `${job.rootFs}/${identity}`];
  return selectionOf(job.filesystems).roots.map((root) => root.root);
}

/** The calls that change a sink's datasets: each first takes the session's lock (session-lock.ts). */
const WRITING_CALLS = ['receive', 'rollback', 'rename', 'ensureParent', 'destroySnapshots', 'moveCursors', 'snapshot', 'abortPartialReceive'] as const;

/** The endpoint implementation served to `identity` by `job`; a sink's writing calls first take `lock`. */
export function servedEndpoint(job: ServedJob, identity: string, driver: ZfsDriver, logger: Logger, lock?: SessionLock): Implementation<EndpointContract> {
  const roots = servedRoots(job, identity);
  // The one place a served endpoint is confined: to its roots, refusals naming the client, and a
  // source to exactly its filter (replication/endpoint/confinement.ts).
  const endpoint = createZfsEndpoint({
    driver,
    logger,
    roots,
    identity,
    ...(job.type === 'source' ? { selects: selectionOf(job.filesystems).selects } : {}),
  });
  const session = { identity, roots, ...(job.type === 'sink' ? { pathMapping: job.pathMapping } : {}) };
  const served: Implementation<EndpointContract> = {
    ...endpoint,
    async session() {
      // Said here, at once: below a missing root_fs every receive would fail as "outside the roots".
      if (job.type === 'sink' && !(await driver.exists(job.rootFs))) throw new ServedRootNotFoundError(job.name, job.rootFs);
      return session;
    },
  };
  if (lock !== undefined) {
    for (const name of WRITING_CALLS) {
      const call = endpoint[name] as (...args: unknown[]) => Promise<unknown>;
      // The call context (the last argument) carries the call's abort signal.
      (served as Record<string, unknown>)[name] = async (...args: unknown[]) => {
        const context = args[args.length - 1] as { signal?: AbortSignal } | undefined;
        await lock.hold(context?.signal);
        return call(...args);
      };
    }
  }
  return served;
}

/**
 * Serves `job`'s endpoint on `connection` to the client the listener authenticated as
 * `identity`: registers the connection (status, metrics), logs it and its end, and returns
 * the session. `connection.peer.transport` names the listener (`tcp`, `tls`; `unix` is the
 * stdinserver's per-identity socket). Call it only after authentication succeeded.
 */
export function serveConnection(connection: TransportConnection, job: ServedJob, identity: string, context: ServeContext): ServedSession {
  const transport: ServedTransport = connection.peer.transport === 'tls' ? 'tls' : connection.peer.transport === 'tcp' ? 'tcp' : 'stdinserver';
  const peer = connection.peer.detail ?? connection.peer.name;
  const logger = context.logger.child({ job: job.name, identity, transport, peer });
  const roots = servedRoots(job, identity);
  const lock =
    job.type === 'sink' && roots[0] !== undefined
      ? sessionLock({ destination: localIdentity(context.hostname, roots[0]).canonical, root: roots[0], job: job.name, identity })
      : undefined;
  const server = new RpcServer({
    logger,
    limits: REPLICATION_RPC_LIMITS,
    identity: job.name,
    ...(context.messageBudget !== undefined ? { sharedMessageBudget: context.messageBudget } : {}),
  });
  server.register(endpointContract, throttleEndpoint(servedEndpoint(job, identity, context.driver, logger, lock), context.buckets?.(job) ?? {}));
  const rpc = server.serve(connection);
  const closedInRegistry = context.registry.opened({ job: job.name, identity, transport, peer });
  const since = Date.now();
  logger.info({ roots }, 'client connected');
  const closed = rpc.closed.then(
    () => undefined,
    (error: unknown) => {
      logger.warn({ err: errorMessage(error) }, `connection of ${identity} ended with an error`);
    },
  );
  void closed.then(async () => {
    await lock?.release();
    closedInRegistry();
    logger.info({ durationMs: Date.now() - since }, 'client disconnected');
  });
  return {
    job: job.name,
    identity,
    closed,
    close: () => server.close(),
    destroy: () => connection.close(),
  };
}
