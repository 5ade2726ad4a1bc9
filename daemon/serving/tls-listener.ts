/**
 * A sink or source job's `serve: {type: tls}`: mutual TLS. The client must present a
 * certificate signed by `ca` (checked by transport/tls.ts, within the handshake timeout); its
 * CN is its identity and must be one of `client_cns`. Every refusal (no certificate, another CA,
 * expired, a CN not listed) happens before any RPC and is logged with the client's address.
 */
import type { ServeTls } from '../../config/types.js';
import { listenTls } from '../../transport/tls.js';
import { serveConnection, type ServeContext, type ServedJob, type ServedSession } from './serve-endpoint.js';
import type { JobListener } from './listener-types.js';

export async function startTlsListener(job: ServedJob, serve: ServeTls, context: ServeContext): Promise<JobListener> {
  const logger = context.logger.child({ job: job.name, transport: 'tls' });
  const accepted = new Set(serve.clientCns);
  const sessions = new Set<ServedSession>();
  const listener = await listenTls(
    {
      host: serve.host,
      port: serve.port,
      ca: serve.ca,
      cert: serve.cert,
      key: serve.key,
      handshakeTimeoutMs: serve.handshakeTimeoutMs,
      // transport/tls.ts names the client's address and why (no certificate, untrusted, expired).
      onError: (error) => logger.warn({ code: error.code, err: error.message }, `refused tls client: ${error.message}`),
    },
    (connection) => {
      const cn = connection.peer.name;
      if (!accepted.has(cn)) {
        connection.close();
        logger.warn({ peer: connection.peer.detail, cn }, `refused tls client: its certificate CN ${JSON.stringify(cn)} is not in client_cns`);
        return;
      }
      const session = serveConnection(connection, job, cn, context);
      sessions.add(session);
      void session.closed.then(() => sessions.delete(session));
    },
  );
  logger.info({ listen: listener.address }, 'serving over tls');
  return { job: job.name, transport: 'tls', address: listener.address, port: listener.port, sessions, close: () => listener.close() };
}
