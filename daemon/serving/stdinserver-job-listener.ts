/**
 * A sink or source job's `serve: {type: stdinserver}`: clients arrive through ssh, whose
 * authorized_keys forced command `zferry stdinserver ID` connects to the job's socket for ID in
 * `global.serve.stdinserver.sockdir`. The socket a connection came in on is its identity.
 */
import type { Config, ServeStdinserver } from '../../config/types.js';
import type { JobListener } from './listener-types.js';
import { serveConnection, type ServeContext, type ServedJob, type ServedSession } from './serve-endpoint.js';
import { listenStdinserver } from './stdinserver-listener.js';

export async function startStdinserverListener(job: ServedJob, serve: ServeStdinserver, context: ServeContext, config: Config): Promise<JobListener> {
  const logger = context.logger.child({ job: job.name, transport: 'stdinserver' });
  const sockdir = config.global.serve.stdinserver.sockdir;
  const sessions = new Set<ServedSession>();
  const listener = await listenStdinserver({
    sockdir,
    job,
    identities: serve.clientIdentities,
    logger,
    onConnection: (connection, identity) => {
      const session = serveConnection(connection, job, identity, context);
      sessions.add(session);
      void session.closed.then(() => sessions.delete(session));
    },
  });
  logger.info({ sockdir, identities: serve.clientIdentities }, 'serving ssh clients through zferry stdinserver');
  return { job: job.name, transport: 'stdinserver', address: sockdir, sessions, close: () => listener.close() };
}
