/**
 * zrepl's `stdinserver` on the daemon's side: a sink or source job with
 * `serve: {type: stdinserver, client_identities: [...]}` listens on one unix socket per client
 * identity, `<sockdir>/<identity>`. The backup host's authorized_keys runs
 * `zferry stdinserver ID` for the client's key; that process connects to the socket named by ID
 * and carries the ssh session's bytes, so the daemon (its locks, status and metrics) serves the
 * RPC itself.
 *
 * Which socket a connection came in on is the client's identity: the ssh key chose the forced
 * command, the forced command chose the socket. So nobody but the daemon's user may create,
 * replace or reach a socket there:
 * - the directory is created 0700 when missing; an existing one must be a directory of the
 *   daemon's user that nobody else can write into (else someone could put their own socket in
 *   its place, or name theirs after another identity);
 * - each socket is 0600;
 * - a socket left by a daemon that died is replaced, one that something still answers on is
 *   refused: a second daemon (or job) would serve the same identity.
 */
import { lstat } from 'node:fs/promises';
import { privateDirectoryFix, privateDirectoryProblem } from '../private-directory.js';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { componentProblem } from '../../config/names.js';
import { listenUnix, type UnixListener } from '../../transport/unix.js';
import type { TransportConnection } from '../../transport/types.js';
import { errorCode, errorMessage, ZferryError } from '../../platform/errors.js';

/** Gets each accepted connection with the identity its socket stands for. */
export type StdinserverConnectionHandler = (connection: TransportConnection, identity: string) => void;

export interface StdinserverListenOptions {
  /** `global.serve.stdinserver.sockdir`. */
  sockdir: string;
  /** The sink or source job that serves (its name is in logs and errors). */
  job: { readonly name: string };
  /** `serve.client_identities`: one socket each. */
  identities: readonly string[];
  onConnection: StdinserverConnectionHandler;
  logger: Logger;
}

export interface StdinserverListener {
  /** The socket paths, in the order of `identities`. */
  readonly paths: string[];
  /** Stops accepting, closes the connections still open and removes the socket files. */
  close(): Promise<void>;
}

/** The socket directory or a socket could not be set up (permissions, path too long, an identity that is not a name). */
export class StdinserverSocketError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STDINSERVER_SOCKET_FAILED', message, options);
  }
}

/** The socket directory would let someone else replace a socket, and so be taken for a client. */
export class StdinserverSockdirUnsafeError extends ZferryError {
  constructor(message: string) {
    super('STDINSERVER_SOCKDIR_UNSAFE', message);
  }
}

/** Something already answers on an identity's socket: two servers would share a client. */
export class StdinserverSocketInUseError extends ZferryError {
  constructor(message: string) {
    super('STDINSERVER_SOCKET_IN_USE', message);
  }
}

/** The socket of `identity` in `sockdir` (`zferry stdinserver ID` computes the same). */
export function stdinserverSocketPath(sockdir: string, identity: string): string {
  return path.join(path.resolve(sockdir), identity);
}

export async function listenStdinserver(options: StdinserverListenOptions): Promise<StdinserverListener> {
  const { job, identities, onConnection, logger } = options;
  const sockdir = path.resolve(options.sockdir);
  const seen = new Set<string>();
  for (const identity of identities) {
    const problem = componentProblem(identity, `client identity ${JSON.stringify(identity)}`);
    if (problem !== undefined) throw new StdinserverSocketError(`job '${job.name}': ${problem}`);
    if (seen.has(identity)) throw new StdinserverSocketError(`job '${job.name}': client identity ${JSON.stringify(identity)} is listed twice`);
    seen.add(identity);
  }
  await preparePrivateDirectory(sockdir, job.name);

  const listeners: UnixListener[] = [];
  const closeAll = (): Promise<void> => Promise.all(listeners.map((listener) => listener.close())).then(() => undefined);
  try {
    for (const identity of identities) listeners.push(await listenForIdentity(sockdir, identity));
  } catch (error) {
    await closeAll();
    throw error;
  }
  const paths = listeners.map((listener) => listener.path);
  logger.info({ job: job.name, sockdir, identities }, 'stdinserver sockets ready');
  let closing: Promise<void> | undefined;
  return {
    paths,
    close: () => (closing ??= closeAll()),
  };

  async function listenForIdentity(dir: string, identity: string): Promise<UnixListener> {
    const name = job.name;
    const socketPath = stdinserverSocketPath(dir, identity);
    if (await socketAnswers(socketPath)) {
      throw new StdinserverSocketInUseError(
        `job '${name}': something already accepts connections on ${socketPath} (another zferry daemon, or another job serving client identity ${JSON.stringify(identity)}); stop it or give this daemon another global.serve.stdinserver.sockdir`,
      );
    }
    try {
      return await listenUnix(
        {
          path: socketPath,
          mode: 0o600,
          onError: (error) => logger.warn({ job: name, identity, err: errorMessage(error) }, 'stdinserver connection failed'),
        },
        (connection) => {
          logger.debug({ job: name, identity }, 'stdinserver connection');
          // The socket is the identity: say so to whoever logs or authorizes by the peer's name.
          onConnection({ ...connection, peer: { transport: 'unix', name: identity, detail: `stdinserver socket ${socketPath}` } }, identity);
        },
      );
    } catch (error) {
      throw new StdinserverSocketError(`job '${name}': cannot serve client identity ${JSON.stringify(identity)}: ${errorMessage(error)}`, { cause: error });
    }
  }
}

/** Create `dir` 0700 when missing; refuse one that is not the daemon's user's alone to write. */
async function preparePrivateDirectory(dir: string, job: string): Promise<void> {
  let problem: string | undefined;
  try {
    problem = await privateDirectoryProblem(dir);
  } catch (error) {
    throw new StdinserverSocketError(`job '${job}': cannot create the stdinserver socket directory ${dir}: ${errorMessage(error)}`, { cause: error });
  }
  if (problem !== undefined) {
    throw new StdinserverSockdirUnsafeError(
      `job '${job}': refusing to serve stdinserver sockets in ${dir}: ${problem}; ${privateDirectoryFix(dir, 'global.serve.stdinserver.sockdir')}`,
    );
  }
}

/** Whether something accepts connections on the socket file at `socketPath` (a stale socket does not). */
async function socketAnswers(socketPath: string): Promise<boolean> {
  try {
    if (!(await lstat(socketPath)).isSocket()) return false; // listenUnix refuses to remove what is not a socket
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw new StdinserverSocketError(`cannot inspect ${socketPath}: ${errorMessage(error)}`, { cause: error });
  }
  return new Promise((resolve) => {
    const probe = net.connect({ path: socketPath });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
