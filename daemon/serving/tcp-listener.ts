/**
 * A sink or source job's `serve: {type: tcp}`: plain TCP, the client known by its address
 * through the `clients` rules (client-address.ts). A client no rule covers is refused: its
 * connection closed before a byte of RPC, and logged with its address.
 */
import type { ServeTcp } from '../../config/types.js';
import { listenTcp } from '../../transport/tcp.js';
import { identityOfAddress } from './client-address.js';
import { serveConnection, type ServeContext, type ServedJob } from './serve-endpoint.js';
import type { JobListener } from './listener-types.js';

export async function startTcpListener(job: ServedJob, serve: ServeTcp, context: ServeContext): Promise<JobListener> {
  const logger = context.logger.child({ job: job.name, transport: 'tcp' });
  const sessions = new Set<ReturnType<typeof serveConnection>>();
  const listener = await listenTcp(
    {
      host: serve.host,
      port: serve.port,
      onError: (error) => logger.warn({ err: error.message }, 'tcp connection dropped'),
    },
    (connection) => {
      const stream = connection.stream as { remoteAddress?: string };
      const address = stream.remoteAddress ?? '';
      const identity = identityOfAddress(serve.clients, address);
      if (identity === undefined) {
        connection.close();
        logger.warn({ peer: connection.peer.name, address }, `refused tcp client ${address}: no entry of clients covers its address`);
        return;
      }
      const session = serveConnection(connection, job, identity, context);
      sessions.add(session);
      void session.closed.then(() => sessions.delete(session));
    },
  );
  logger.info({ listen: listener.address }, 'serving over tcp');
  return { job: job.name, transport: 'tcp', address: listener.address, port: listener.port, sessions, close: () => listener.close() };
}
