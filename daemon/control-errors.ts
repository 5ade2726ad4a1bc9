/**
 * The errors of the control socket: what the daemon's DaemonControl throws for a job it cannot
 * act on (they travel to `zferry signal` as RPC_REMOTE with their code), and why a control
 * server cannot start or a client cannot reach one.
 */
import { ZferryError } from '../platform/errors.js';

/** A job name the daemon (or a config file) does not have; names the ones there are, so a typo is easy to see. */
export class UnknownJobError extends ZferryError {
  constructor(
    readonly job: string,
    readonly known: readonly string[],
    /** The config file looked in; absent: the running daemon. */
    readonly configFile?: string,
  ) {
    const where =
      configFile === undefined
        ? { in: '', jobs: "the daemon's jobs", none: 'the daemon runs no jobs' }
        : { in: ` in ${configFile}`, jobs: 'its jobs', none: 'it has no jobs' };
    super('UNKNOWN_JOB', `no job named ${JSON.stringify(job)}${where.in}; ${known.length === 0 ? where.none : `${where.jobs}: ${known.join(', ')}`}`);
  }
}

/** `wakeup` of a job with nothing to run: a sink or source serves, it has no invocations. */
export class JobNotTriggerableError extends ZferryError {
  constructor(
    readonly job: string,
    readonly type: string,
  ) {
    super('JOB_NOT_TRIGGERABLE', `job ${JSON.stringify(job)} is a ${type} job: it serves others and has nothing to run on its own`);
  }
}

/** The socket's directory would let someone else replace the socket (and so speak for the daemon). */
export class ControlSocketUnsafeError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONTROL_SOCKET_UNSAFE', message, options);
  }
}

/** A daemon (or something else) already answers on the socket: two daemons would fight over the pools. */
export class ControlSocketInUseError extends ZferryError {
  constructor(message: string) {
    super('CONTROL_SOCKET_IN_USE', message);
  }
}

/** Nothing listens on the control socket (no daemon runs, or it runs with another sockpath). */
export class NoDaemonError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NO_DAEMON', message, options);
  }
}

/** The daemon's status does not have the documented shape (a daemon bug: `zferry status` could not show it). */
export class InvalidStatusError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONTROL_STATUS_INVALID', message, options);
  }
}

/** A control call failed on the daemon's side with a code of its own (UNKNOWN_JOB, …): kept as that code. */
export class ControlRefusedError extends ZferryError {}

/** What each error code a control endpoint declares means (docs/control.md lists them). */
export const CONTROL_ERROR_CODES = {
  UNKNOWN_JOB: 'the daemon runs no job of that name; the message names the jobs it runs',
  JOB_NOT_TRIGGERABLE: 'the job is a sink or a source: it serves others and has no invocation to start',
  CONTROL_STATUS_INVALID: 'the status the daemon built does not have the documented shape (a bug in the daemon; its log has the details)',
} as const satisfies Record<string, string>;
