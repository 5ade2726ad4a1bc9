/** Errors an endpoint raises before touching ZFS. They travel to the caller by `code`. */

import { ZferryError, errorMessage } from '../../platform/errors.js';

export class EndpointError extends ZferryError {}

/** A name outside the roots this endpoint serves (e.g. a client reaching beyond its tree). */
export class OutsideRootError extends EndpointError {
  /**
   * `via`: what named it, when not the request itself (e.g. "the resume token names").
   * `identity`: the client served, named in the message when known.
   */
  constructor(name: string, roots: readonly string[], via?: string, identity?: string) {
    super('ENDPOINT_OUTSIDE_ROOT', identity === undefined ? anonymousMessage(name, roots, via) : clientMessage(identity, name, roots, via));
  }
}

function anonymousMessage(name: string, roots: readonly string[], via: string | undefined): string {
  const served = `the datasets this endpoint serves (${roots.join(', ')})`;
  return via === undefined ? `${name} is outside ${served}` : `${via} ${name}, which is outside ${served}`;
}

function clientMessage(identity: string, name: string, roots: readonly string[], via: string | undefined): string {
  const root = roots.length === 1 ? `its root is ${roots[0] ?? ''}` : `its roots are ${roots.join(', ')}`;
  return `client '${identity}' may not touch ${name}${via === undefined ? '' : ` (${via} it)`} (${root})`;
}

/**
 * A request a confined endpoint refuses for another reason than a root: a malformed or
 * option-like name, a filesystem its source does not serve, a property not zferry's own, a
 * rename aside leaving its root. Same code as OutsideRootError: to the caller it is one
 * refusal, "not yours to touch"; the message says which.
 */
export class ConfinementRefusedError extends EndpointError {
  constructor(identity: string | undefined, what: string, why: string) {
    super('ENDPOINT_OUTSIDE_ROOT', `${identity === undefined ? 'this endpoint' : `client '${identity}'`} may not ${what} (${why})`);
  }
}

/** A resume token this endpoint cannot read while it must know what the token would send (it serves roots). */
export class ResumeTokenUnreadableError extends EndpointError {
  constructor(cause: unknown, identity?: string) {
    super('ENDPOINT_RESUME_TOKEN_UNREADABLE', `refusing the resume token${ofClient(identity)}: ${errorMessage(cause)}`, { cause });
  }
}

/** A resume token that would send another snapshot than the one the request names. */
export class ResumeTokenMismatchError extends EndpointError {
  constructor(snapshot: string, why: string, identity?: string) {
    super('ENDPOINT_RESUME_TOKEN_MISMATCH', `refusing the resume token${ofClient(identity)} for ${snapshot}: ${why}`);
  }
}

function ofClient(identity: string | undefined): string {
  return identity === undefined ? '' : ` of client '${identity}'`;
}

/** A full receive with -F would overwrite a target that holds data but no snapshots. */
export class TargetNotEmptyError extends EndpointError {
  constructor(target: string, referencedBytes: number) {
    super(
      'ENDPOINT_TARGET_NOT_EMPTY',
      `${target} exists without snapshots but holds ${referencedBytes} bytes; refusing to overwrite it. ` +
        'Rename or destroy it, or use --on-diverged rename to keep it aside',
    );
  }
}

/** A full receive with -F would replace a placeholder that something real now lies below. */
export class PlaceholderInUseError extends EndpointError {
  constructor(target: string, why: string) {
    super('ENDPOINT_TARGET_NOT_EMPTY', `${target} is a placeholder, but ${why}; refusing to receive over it. Rename or destroy it first`);
  }
}

/** The snapshot to roll back to is not the one the plan was made for. */
export class RollbackMismatchError extends EndpointError {
  constructor(snapshot: string, expectedGuid: string, actualGuid: string | undefined) {
    super('ENDPOINT_ROLLBACK_MISMATCH', `refusing to roll back to ${snapshot}: expected guid ${expectedGuid}, found ${actualGuid ?? 'no such snapshot'}`);
  }
}

/** A cursor move names a filesystem outside the tree it says it belongs to. */
export class CursorOutsideTreeError extends EndpointError {
  constructor(filesystem: string, root: string) {
    super('ENDPOINT_CURSOR_OUTSIDE_TREE', `replication cursor move for ${filesystem}, which is not within ${root}`);
  }
}

/** The pool a target would be received into does not exist (zfs never creates a pool). */
export class PoolNotFoundError extends EndpointError {
  constructor(pool: string, target: string, options?: { cause?: unknown }) {
    super('ENDPOINT_POOL_NOT_FOUND', `pool '${pool}' does not exist (target ${target})`, options);
  }
}

/** A full receive needs the target's parent; zfs then only says "dataset does not exist". */
export class ParentNotFoundError extends EndpointError {
  constructor(target: string, parent: string, options?: { cause?: unknown }) {
    super('ENDPOINT_PARENT_NOT_FOUND', `cannot receive ${target}: its parent ${parent} does not exist`, options);
  }
}

/** A daemon's sink serving a client whose `root_fs` does not exist (told at `session`, before anything else fails oddly). */
export class ServedRootNotFoundError extends EndpointError {
  constructor(sink: string, rootFs: string) {
    super(
      'ENDPOINT_SERVED_ROOT_NOT_FOUND',
      `sink '${sink}': its root_fs ${rootFs} does not exist on the serving host; create it there (zfs create -o mountpoint=none ${rootFs})`,
    );
  }
}

/*
 * Opening a job's endpoints (open.ts): raised on the calling side, never by a handler.
 */

/** An endpoint spec of a kind this version cannot open yet. */
export class EndpointKindUnsupportedError extends EndpointError {
  constructor(kind: string) {
    super('ENDPOINT_KIND_UNSUPPORTED', `${kind} endpoints are not supported yet: a side is a local dataset or reached over ssh, tcp or tls`);
  }
}

/** A tcp or tls side did not answer within the dial timeout. */
export class DialTimeoutError extends EndpointError {
  constructor(target: string, timeoutMs: number, cause: unknown) {
    super('ENDPOINT_DIAL_TIMEOUT', `cannot connect to ${target}: no answer within ${timeoutMs} ms (dial_timeout)`, { cause });
  }
}

/** ssh could not say which user and port it uses for a host, and these name the destination's cursors. */
export class DestinationUnresolvedError extends EndpointError {
  constructor(host: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('ENDPOINT_DESTINATION_UNRESOLVED', `cannot tell which user and port ssh uses for ${host} (they name the replication cursors): ${reason}`, { cause });
  }
}
