/** Errors of a replication job as a whole (per-filesystem failures are reported, not thrown), and how a summary reports any error. */

import { ZferryError, errorCode, errorMessage } from '../../platform/errors.js';
import { RpcRemoteError } from '../../rpc/index.js';

export class ReplicationError extends ZferryError {}

export class SourceNotFoundError extends ReplicationError {
  constructor(source: string, why?: string) {
    super('SOURCE_NOT_FOUND', `source filesystem ${source} does not exist${why === undefined ? '' : `: ${why}`}`);
  }
}

/** Nothing can be received where the target's pool does not exist (zfs never creates a pool). */
export class TargetPoolNotFoundError extends ReplicationError {
  constructor(pool: string, target: string) {
    super('TARGET_POOL_NOT_FOUND', `pool '${pool}' does not exist (target ${target})`);
  }
}

/** The remote answered something that does not belong to what we asked (hostile or broken). */
export class UntrustedAnswerError extends ReplicationError {
  constructor(message: string) {
    super('UNTRUSTED_ANSWER', message);
  }
}

/** The receiver reports a snapshot other than the one sent. */
export class StepVerificationError extends ReplicationError {
  constructor(message: string) {
    super('STEP_UNVERIFIED', message);
  }
}

/** `{code, message}` of any error, preferring the remote's own code when an RPC carried it. */
export function describeError(error: unknown): { code: string; message: string } {
  const remoteCode = error instanceof RpcRemoteError ? error.remoteCode : undefined;
  return { code: remoteCode ?? errorCode(error) ?? 'ERROR', message: errorMessage(error) };
}
