/**
 * The daemon's control socket: the control contract (control-contract.ts) served with
 * zferry's own RPC on a unix socket. Whoever can connect can stop transfers, so:
 * - the socket's directory is created 0700 when missing, and an existing one must belong to
 *   the daemon's user and be writable by nobody else (else someone could put their own socket
 *   in its place and answer `zferry status` for the daemon);
 * - the socket itself is 0600;
 * - a socket left by a daemon that died is replaced, one a daemon still answers on is not:
 *   two daemons would run the same jobs into the same targets.
 */
import { lstat } from 'node:fs/promises';
import { privateDirectoryFix, privateDirectoryProblem } from './private-directory.js';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { RpcServer, type Implementation } from '../rpc/index.js';
import { listenUnix, type UnixListener } from '../transport/unix.js';
import { errorCode, errorMessage, ZferryError } from '../platform/errors.js';
import { connectControl } from './control-client.js';
import { controlContract, type ControlContract } from './control-contract.js';
import { ControlSocketInUseError, ControlSocketUnsafeError, InvalidStatusError } from './control-errors.js';
import type { DaemonControl } from './control-types.js';
import { daemonStatusSchema } from './status-schema.js';
import type { DaemonStatus } from './status-types.js';

export interface ControlServer {
  readonly sockpath: string;
  /** Stops answering (calls in progress finish), closes the connections and removes the socket file. */
  close(): Promise<void>;
}

/** The socket could not be set up for a reason of the system's (permissions, path too long, …). */
export class ControlSocketError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONTROL_SOCKET_FAILED', message, options);
  }
}

/** How long a daemon that is starting waits for an answer on an existing socket before calling it not a zferry daemon. */
const PROBE_TIMEOUT_MS = 3000;

export async function startControlServer(control: DaemonControl, sockpath: string, logger: Logger): Promise<ControlServer> {
  const socketPath = path.resolve(sockpath);
  await prepareDirectory(path.dirname(socketPath));
  await refuseIfServed(socketPath, logger);

  const server = new RpcServer({ logger, identity: 'zferry-daemon' });
  server.register(controlContract, controlImplementation(control, logger));
  let listener: UnixListener;
  try {
    listener = await listenUnix(
      { path: socketPath, mode: 0o600, onError: (error) => logger.warn({ err: errorMessage(error) }, 'control connection failed') },
      (connection) => server.serve(connection),
    );
  } catch (error) {
    // Another daemon may have bound the path since the probe above.
    throw new ControlSocketError(`cannot serve the control socket: ${errorMessage(error)}`, { cause: error });
  }
  logger.info({ sockpath: socketPath }, 'control socket ready');
  let closing: Promise<void> | undefined;
  return {
    sockpath: socketPath,
    close: () =>
      (closing ??= (async () => {
        await server.close();
        await listener.close();
      })()),
  };
}

function controlImplementation(control: DaemonControl, logger: Logger): Implementation<ControlContract> {
  // Async, so that what DaemonControl throws (UNKNOWN_JOB, …) becomes the call's error.
  return {
    hello: async () => {
      const { version, pid, startedAt, config } = control.status();
      return { version, pid, startedAt, config };
    },
    status: async () => checkedStatus(control.status(), logger),
    signal: async ({ action, job }, ctx) => {
      logger.info({ job, action, peer: ctx.peer.name }, `control: ${action} ${job}`);
      if (action === 'wakeup') control.wakeup(job);
      else control.reset(job);
      return {};
    },
  };
}

/**
 * The status as it travels: absent members left out (an `undefined` would travel as nil and be
 * refused by the client), checked against the documented shape here, where the daemon's log
 * can say what is wrong.
 */
function checkedStatus(status: DaemonStatus, logger: Logger): DaemonStatus {
  const plain: unknown = JSON.parse(JSON.stringify(status));
  const checked = daemonStatusSchema.safeParse(plain);
  if (!checked.success) {
    const problems = z.prettifyError(checked.error);
    logger.error({ problems }, 'the daemon built a status that does not have the documented shape');
    throw new InvalidStatusError(`the daemon's status does not have the documented shape: ${problems}`);
  }
  return checked.data;
}

/** Create the socket's directory 0700 when missing; refuse one that someone else could write into. */
async function prepareDirectory(dir: string): Promise<void> {
  let problem: string | undefined;
  try {
    problem = await privateDirectoryProblem(dir);
  } catch (error) {
    throw new ControlSocketError(`cannot create the control socket's directory ${dir}: ${errorMessage(error)}`, { cause: error });
  }
  if (problem !== undefined) {
    throw new ControlSocketUnsafeError(`refusing to serve the control socket in ${dir}: ${problem}; ${privateDirectoryFix(dir, 'global.control.sockpath')}`);
  }
}

/** Refuse when a daemon (or anything) answers on the socket; a socket nobody answers on is left for listenUnix to replace. */
async function refuseIfServed(sockpath: string, logger: Logger): Promise<void> {
  try {
    await lstat(sockpath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw new ControlSocketError(`cannot inspect the control socket ${sockpath}: ${errorMessage(error)}`, { cause: error });
  }
  let client;
  try {
    client = await connectControl(sockpath, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  } catch (error) {
    if (errorCode(error) === 'NO_DAEMON') {
      logger.info({ sockpath }, 'replacing the control socket of a daemon that is gone');
      return;
    }
    throw new ControlSocketInUseError(
      `something that is not a zferry daemon listens on ${sockpath} (${errorMessage(error)}); stop it or set global.control.sockpath elsewhere`,
    );
  }
  try {
    const hello = await client.hello().catch(() => undefined);
    const who = hello === undefined ? '' : ` (pid ${hello.pid}, config ${hello.config})`;
    throw new ControlSocketInUseError(`another zferry daemon${who} serves ${sockpath}: stop it first, or give this one another global.control.sockpath`);
  } finally {
    await client.close().catch(() => undefined);
  }
}
