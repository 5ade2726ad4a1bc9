/**
 * The calling end of the control socket (`zferry status`, `zferry signal`): a typed client for
 * the control contract, with the failures a user meets told in their words (no daemon, not
 * allowed, not a zferry daemon) and the daemon's refusals kept under their own codes.
 */
import { connect, RpcRemoteError, type ConnectedClient } from '../rpc/index.js';
import { unixConnector } from '../transport/unix.js';
import { ZferryError, errorCode, errorMessage } from '../platform/errors.js';
import { controlContract, type ControlContract, type SignalAction } from './control-contract.js';
import { ControlRefusedError, NoDaemonError } from './control-errors.js';
import type { DaemonStatus } from './status-types.js';

export interface DaemonHello {
  version: string;
  pid: number;
  startedAt: string;
  config: string;
}

export interface ControlClient {
  readonly sockpath: string;
  hello(): Promise<DaemonHello>;
  status(): Promise<DaemonStatus>;
  signal(action: SignalAction, job: string): Promise<void>;
  /** Resolves when the connection ends (the daemon stopped, or close()). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** The control socket answers, but the daemon refused the connection or its first words were not zferry's. */
export class ControlConnectError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONTROL_CONNECT_FAILED', message, options);
  }
}

/** System errors that mean nobody serves the path: no socket file, or one left by a daemon that died. */
const NOBODY_THERE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTDIR']);

export interface ConnectControlOptions {
  /** Gives up connecting (the HELLO exchange included). */
  signal?: AbortSignal;
}

export async function connectControl(sockpath: string, options: ConnectControlOptions = {}): Promise<ControlClient> {
  let transport;
  try {
    transport = await unixConnector({ path: sockpath }).connect(options.signal);
  } catch (error) {
    const cause = error instanceof Error ? error.cause : undefined;
    const code = errorCode(cause);
    if (code !== undefined && NOBODY_THERE.has(code)) {
      throw new NoDaemonError(`no zferry daemon is running (nothing listens on ${sockpath})`, { cause: error });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new ControlConnectError(
        `cannot reach the zferry daemon on ${sockpath}: permission denied (the control socket is only for the user the daemon runs as)`,
        {
          cause: error,
        },
      );
    }
    throw new ControlConnectError(`cannot reach the zferry daemon on ${sockpath}: ${errorMessage(error)}`, { cause: error });
  }
  let client: ConnectedClient<ControlContract>;
  try {
    client = await connect(transport, controlContract, options.signal === undefined ? {} : { signal: options.signal });
  } catch (error) {
    transport.close();
    throw new ControlConnectError(`what answers on ${sockpath} is not a zferry daemon: ${errorMessage(error)}`, { cause: error });
  }
  return {
    sockpath,
    hello: () => refusalsByCode(client.hello({})),
    status: () => refusalsByCode(client.status({})),
    signal: async (action, job) => {
      await refusalsByCode(client.signal({ action, job }));
    },
    closed: client.connection.closed,
    close: () => client.close(),
  };
}

/** A refusal by the daemon (UNKNOWN_JOB, …) under its own code, so exit codes and callers can tell them apart. */
async function refusalsByCode<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof RpcRemoteError && error.remoteCode !== undefined) throw new ControlRefusedError(error.remoteCode, error.message, { cause: error });
    throw error;
  }
}
