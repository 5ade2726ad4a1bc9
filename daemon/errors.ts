/** Errors of the daemon's own making (what the config and the replication layer do not already say). */
import { ZferryError } from '../platform/errors.js';

export class DaemonError extends ZferryError {}

/**
 * What a job's definition cannot do, found when it is about to run (the config's validation
 * should have caught it; this names it all the same).
 */
export class JobDefinitionError extends DaemonError {
  constructor(job: string, message: string) {
    super('CONFIG', `job '${job}': ${message}`);
  }
}

/** A push to a local sink whose `root_fs` does not exist. */
export class SinkRootMissingError extends DaemonError {
  constructor(sink: string, rootFs: string) {
    super('SINK_ROOT_NOT_FOUND', `sink '${sink}': its root_fs ${rootFs} does not exist; create it (e.g. zfs create -o mountpoint=none ${rootFs})`);
  }
}

/** A job replicates what a job of another name did (its holds and cursors carry that name). */
export class JobRenamedError extends DaemonError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

/**
 * A served side (tcp, tls) that ended the connection before the session began: the server
 * refuses without saying why (a refusal speaks no RPC), so this says what it most likely was.
 * Keeps the transport's code (a lost connection stays transient).
 */
export class ServedSideRefusedError extends DaemonError {
  constructor(code: string, message: string, hint: string, cause: unknown) {
    super(code, `${message}; ${hint}`, { cause });
  }
}
