/**
 * Errors across the wire: what a handler throws or a stream ends with becomes a WireError
 * (code + message + optional remoteCode/details), and comes out as the matching RpcError class
 * on the other side.
 */
import {
  RpcCancelledError,
  RpcConnectionLostError,
  RpcDeadlineError,
  RpcError,
  RpcGoawayError,
  RpcInvalidRequestError,
  RpcInvalidResponseError,
  RpcProtocolError,
  RpcRemoteError,
  RpcRequestTooLargeError,
  RpcResourceExhaustedError,
  RpcStreamSourceError,
  RpcUnknownEndpointError,
  errorCode,
  errorMessage,
} from './errors.js';
import type { RpcErrorCode } from './errors.js';
import type { WireError } from './wire.js';

/** Keeps error messages from filling a header frame. */
const MAX_MESSAGE_CHARS = 8 * 1024;
const MAX_DETAILS_BYTES = 16 * 1024;

function clip(message: string): string {
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message;
}

function serializableDetails(details: unknown): unknown {
  if (details === undefined) return undefined;
  try {
    const json = JSON.stringify(details);
    return json !== undefined && json.length <= MAX_DETAILS_BYTES ? (JSON.parse(json) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The wire form of an error. A handler's own error (any class but RpcError) travels as
 * RPC_REMOTE with its `code` property as remoteCode; RpcErrors thrown by a handler (e.g. from a
 * nested call) also travel as RPC_REMOTE, so the caller never mistakes them for its own call's fate.
 */
export function handlerErrorToWire(err: unknown): WireError {
  const wire: WireError = { code: 'RPC_REMOTE', message: clip(errorMessage(err)) };
  const remoteCode = err instanceof RpcRemoteError ? err.remoteCode : errorCode(err);
  if (remoteCode !== undefined) wire.remoteCode = remoteCode.slice(0, 128);
  const details = serializableDetails(typeof err === 'object' && err !== null ? (err as { details?: unknown }).details : undefined);
  if (details !== undefined) wire.details = details;
  return wire;
}

/** The wire form of an RPC-level error (our own classes keep their code). */
export function rpcErrorToWire(err: RpcError): WireError {
  if (err instanceof RpcRemoteError) {
    const wire: WireError = { code: err.code, message: clip(err.message) };
    if (err.remoteCode !== undefined) wire.remoteCode = err.remoteCode;
    const details = serializableDetails(err.details);
    if (details !== undefined) wire.details = details;
    return wire;
  }
  return { code: err.code, message: clip(err.message) };
}

const CONSTRUCTORS: Record<Exclude<RpcErrorCode, 'RPC_REMOTE'>, new (message: string) => RpcError> = {
  RPC_PROTOCOL: RpcProtocolError,
  RPC_CONNECTION_LOST: RpcConnectionLostError,
  RPC_CANCELLED: RpcCancelledError,
  RPC_DEADLINE_EXCEEDED: RpcDeadlineError,
  RPC_UNKNOWN_ENDPOINT: RpcUnknownEndpointError,
  RPC_INVALID_REQUEST: RpcInvalidRequestError,
  RPC_INVALID_RESPONSE: RpcInvalidResponseError,
  RPC_STREAM_SOURCE: RpcStreamSourceError,
  RPC_GOAWAY: RpcGoawayError,
  RPC_REQUEST_TOO_LARGE: RpcRequestTooLargeError,
  RPC_RESOURCE_EXHAUSTED: RpcResourceExhaustedError,
};

/** The RpcError a WireError stands for. Codes we do not know become RpcRemoteError. */
export function wireToError(wire: WireError, prefix = ''): RpcError {
  const message = prefix === '' ? wire.message : `${prefix}${wire.message}`;
  if (wire.code !== 'RPC_REMOTE' && Object.hasOwn(CONSTRUCTORS, wire.code)) {
    const Constructor = CONSTRUCTORS[wire.code as keyof typeof CONSTRUCTORS];
    return new Constructor(message);
  }
  return new RpcRemoteError(message, {
    remoteCode: wire.code === 'RPC_REMOTE' ? wire.remoteCode : wire.code,
    details: wire.details,
  });
}
