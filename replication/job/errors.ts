/** Errors of a replication job as a whole (per-filesystem failures are reported, not thrown), and how a summary reports any error. */

import { ZferryError, errorCode, errorMessage } from '../../platform/errors.js';
import { RpcRemoteError } from '../../rpc/index.js';
import type { LockHolder } from './lock-sockets.js';

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

/**
 * How another run's target relates to ours: the same, ours inside it, ours containing it, or
 * unknown (a holder that did not say what it holds, which might be either).
 */
export type BusyRelation = 'same' | 'inside' | 'contains' | 'unanswered';

/**
 * Another process is replicating into the target, or into a filesystem above or below it
 * (target-lock.ts). `holder` is undefined when what holds the lock did not say who it is.
 */
export class TargetBusyError extends ReplicationError {
  declare readonly code: 'TARGET_BUSY';

  constructor(
    readonly target: string,
    readonly holder: LockHolder | undefined,
    readonly relation: BusyRelation = 'same',
  ) {
    super('TARGET_BUSY', `${busyWhat(target, holder, relation)}; try again when it is done`);
  }
}

function busyWhat(target: string, holder: LockHolder | undefined, relation: BusyRelation): string {
  if (relation === 'unanswered') return `${target} may overlap the target of another process holding a zferry target lock, which did not say what it holds`;
  if (holder === undefined) return `${target} is locked by another process that did not say who it is`;
  const who = `pid ${holder.pid}, job '${printable(holder.job)}', since ${sinceText(holder.since)}${holder.command !== undefined ? `, running ${printable(holder.command)}` : ''}`;
  if (relation === 'same') return `${target} is being replicated by another zferry (${who})`;
  const theirs = printable(datasetOf(holder.destination));
  return `${target} ${relation === 'inside' ? 'lies inside' : 'contains'} ${theirs}, which another zferry is replicating into (${who})`;
}

/** `12:03:01 UTC` today, `2024-05-01 12:03:01 UTC` before. */
function sinceText(since: string): string {
  const date = new Date(since);
  if (Number.isNaN(date.getTime())) return printable(since);
  const [day, time] = date.toISOString().split('T') as [string, string];
  const today = new Date().toISOString().split('T')[0];
  return `${day === today ? '' : `${day} `}${time.slice(0, 8)} UTC`;
}

/** The dataset of a destination's canonical name (`local://host/pool/x` → `pool/x`). */
function datasetOf(destination: string): string {
  const match = /^[a-z]+:\/\/[^/]*\/(.+)$/.exec(destination);
  return match?.[1] ?? destination;
}

/** What another process wrote, made safe to print: no control characters, bounded. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/** `{code, message}` of any error, preferring the remote's own code when an RPC carried it. */
export function describeError(error: unknown): { code: string; message: string } {
  const remoteCode = error instanceof RpcRemoteError ? error.remoteCode : undefined;
  return { code: remoteCode ?? errorCode(error) ?? 'ERROR', message: errorMessage(error) };
}
