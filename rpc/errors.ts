/**
 * The errors an RPC call or connection can end with. Every class has a stable `code` (also the
 * code used on the wire, see docs/protocol.md) so callers can branch on it, and the same
 * classes come out of a network connection and of LocalRPC.
 */

import { ZferryError } from '../platform/errors.js';

export type RpcErrorCode =
  | 'RPC_PROTOCOL'
  | 'RPC_CONNECTION_LOST'
  | 'RPC_CANCELLED'
  | 'RPC_DEADLINE_EXCEEDED'
  | 'RPC_UNKNOWN_ENDPOINT'
  | 'RPC_INVALID_REQUEST'
  | 'RPC_INVALID_RESPONSE'
  | 'RPC_REMOTE'
  | 'RPC_STREAM_SOURCE'
  | 'RPC_GOAWAY'
  | 'RPC_REQUEST_TOO_LARGE'
  | 'RPC_RESOURCE_EXHAUSTED';

export interface RpcErrorOptions {
  cause?: unknown;
}

export class RpcError extends ZferryError {
  declare readonly code: RpcErrorCode;

  constructor(code: RpcErrorCode, message: string, options?: RpcErrorOptions) {
    super(code, message, options);
  }
}

/** The peer sent something malformed or oversized, or speaks another protocol/version. Closes the connection. */
export class RpcProtocolError extends RpcError {
  constructor(message: string, options?: RpcErrorOptions) {
    super('RPC_PROTOCOL', message, options);
  }
}

/** The peer vanished: socket closed or failed, or the keepalive timed out. */
export class RpcConnectionLostError extends RpcError {
  constructor(message: string, options?: RpcErrorOptions) {
    super('RPC_CONNECTION_LOST', message, options);
  }
}

/** The call was cancelled through an AbortSignal (on either side). */
export class RpcCancelledError extends RpcError {
  constructor(message = 'call cancelled', options?: RpcErrorOptions) {
    super('RPC_CANCELLED', message, options);
  }
}

/** The call's timeoutMs/deadline passed before it finished. */
export class RpcDeadlineError extends RpcError {
  constructor(message = 'deadline exceeded', options?: RpcErrorOptions) {
    super('RPC_DEADLINE_EXCEEDED', message, options);
  }
}

/** The remote side has no handler for this endpoint. The connection stays usable. */
export class RpcUnknownEndpointError extends RpcError {
  constructor(message: string, options?: RpcErrorOptions) {
    super('RPC_UNKNOWN_ENDPOINT', message, options);
  }
}

/** The request validator rejected the request; the message names the offending fields. */
export class RpcInvalidRequestError extends RpcError {
  constructor(message: string, options?: RpcErrorOptions) {
    super('RPC_INVALID_REQUEST', message, options);
  }
}

/** The remote answered something the response validator rejects. */
export class RpcInvalidResponseError extends RpcError {
  constructor(message: string, options?: RpcErrorOptions) {
    super('RPC_INVALID_RESPONSE', message, options);
  }
}

/** The remote handler threw. `remoteCode` is the `code` property of what it threw, if any. */
export class RpcRemoteError extends RpcError {
  readonly remoteCode: string | undefined;
  readonly details: unknown;

  constructor(message: string, options?: RpcErrorOptions & { remoteCode?: string | undefined; details?: unknown }) {
    super('RPC_REMOTE', message, options);
    this.remoteCode = options?.remoteCode;
    this.details = options?.details;
  }
}

/** The source of a byte stream failed (e.g. `zfs send` died); not a connection problem. */
export class RpcStreamSourceError extends RpcError {
  constructor(message: string, options?: RpcErrorOptions) {
    super('RPC_STREAM_SOURCE', message, options);
  }
}

/** The peer is shutting down and did not start this call: safe to retry elsewhere or later. */
export class RpcGoawayError extends RpcError {
  constructor(message = 'peer is shutting down; call not started', options?: RpcErrorOptions) {
    super('RPC_GOAWAY', message, options);
  }
}

/** The request body exceeds what its endpoint accepts (`maxRequestBytes`): retrying will not help. */
export class RpcRequestTooLargeError extends RpcError {
  constructor(message: string, options?: RpcErrorOptions) {
    super('RPC_REQUEST_TOO_LARGE', message, options);
  }
}

/**
 * The receiver would not buffer more of an unfinished message now: its memory budget for
 * unfinished messages (per connection or per server) is spent. Retrying later may succeed.
 */
export class RpcResourceExhaustedError extends RpcError {
  constructor(message: string, options?: RpcErrorOptions) {
    super('RPC_RESOURCE_EXHAUSTED', message, options);
  }
}

/** Read anything thrown (defined in platform/errors.ts): the RPC modules take them from here. */
export { errorCode, errorMessage } from '../platform/errors.js';
