/**
 * The JSON payloads of HELLO, HEADERS, RESET and GOAWAY frames, and the binary ones of WINDOW
 * and PING/PONG: encoding, and strict validation of what a peer sends (it may be hostile).
 * Unknown extra fields are ignored so later versions can add some.
 */
import { RpcProtocolError } from './errors.js';
import { PING_PAYLOAD_BYTES, PROTOCOL_NAME, WINDOW_PAYLOAD_BYTES } from './frame.js';
import { ANNOUNCED_LIMIT_NAMES, LIMIT_BOUNDS } from './limits.js';
import type { AnnouncedLimits } from './limits.js';

export type ConnectionRole = 'initiator' | 'acceptor';

export interface Hello {
  protocol: string;
  versions: number[];
  role: ConnectionRole;
  identity: { software: string; name?: string };
  limits: AnnouncedLimits;
  features: string[];
}

/** An error as it travels in a response, trailer or RESET. */
export interface WireError {
  code: string;
  message: string;
  remoteCode?: string;
  details?: unknown;
}

export interface RequestHeaders {
  kind: 'request';
  endpoint: string;
  metadata: Record<string, string>;
  /** Milliseconds the caller still allowed when it sent the request (relative: clocks differ). */
  timeoutMs?: number;
}

export type ResponseHeaders = { kind: 'response'; ok: true } | { kind: 'response'; ok: false; error: WireError };
export type TrailerHeaders = { kind: 'trailer'; ok: true } | { kind: 'trailer'; ok: false; error: WireError };
export type StreamHeaders = RequestHeaders | ResponseHeaders | TrailerHeaders;

export interface Goaway {
  /** The highest stream id opened by the receiver of this GOAWAY that the sender will still process. */
  lastStreamId: number;
  code: string;
  message: string;
}

export const MAX_ENDPOINT_NAME = 256;
export const MAX_METADATA_ENTRIES = 64;
export const MAX_FEATURES = 64;

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * JSON of `wrap(error)` within `limit` bytes (the peer's maxHeaderBytes): if it does not fit,
 * the details are dropped and the message is shortened. An error report must never be what
 * breaks the peer's limits.
 */
export function encodeWithError(wrap: (error: WireError) => unknown, error: WireError, limit: number): Buffer {
  let encoded = encodeJson(wrap(error));
  if (encoded.length <= limit) return encoded;
  const { code, message, remoteCode } = error;
  let trimmed: WireError = remoteCode === undefined ? { code, message } : { code, message, remoteCode };
  for (;;) {
    encoded = encodeJson(wrap(trimmed));
    if (encoded.length <= limit || trimmed.message.length === 0) return encoded;
    // Shrink in proportion (characters may take several bytes), a little more each round.
    const keep = Math.max(0, Math.floor((trimmed.message.length * limit) / encoded.length) - 16);
    trimmed = { ...trimmed, message: keep === 0 ? '' : `${trimmed.message.slice(0, keep)}…` };
  }
}

/** A peer-supplied value quoted for an error message, never long. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

/** The two headers nearly every call sends, decoded and encoded once. */
export const RESPONSE_OK: ResponseHeaders = Object.freeze({ kind: 'response', ok: true });
export const TRAILER_OK: TrailerHeaders = Object.freeze({ kind: 'trailer', ok: true });
export const RESPONSE_OK_BYTES: Buffer = encodeJson(RESPONSE_OK);
export const TRAILER_OK_BYTES: Buffer = encodeJson(TRAILER_OK);

function parseJsonObject(payload: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new RpcProtocolError(`${what}: payload is not valid JSON`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RpcProtocolError(`${what}: payload is not a JSON object`);
  return value as Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff;
}

function shortString(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length <= max;
}

export function decodeHello(payload: Buffer): Hello {
  const raw = parseJsonObject(payload, 'HELLO');
  if (raw['protocol'] !== PROTOCOL_NAME) {
    throw new RpcProtocolError(`HELLO: peer speaks protocol ${quote(raw['protocol'])}, not ${PROTOCOL_NAME}`);
  }
  const versions = raw['versions'];
  if (!Array.isArray(versions) || versions.length === 0 || versions.length > 64 || !versions.every((v) => isU32(v) && v > 0 && v < 256)) {
    throw new RpcProtocolError('HELLO: versions must be a non-empty list of integers 1..255');
  }
  const role = raw['role'];
  if (role !== 'initiator' && role !== 'acceptor') throw new RpcProtocolError('HELLO: role must be "initiator" or "acceptor"');
  const identity = raw['identity'];
  if (!isObject(identity) || !shortString(identity['software'], 256) || (identity['name'] !== undefined && !shortString(identity['name'], 1024))) {
    throw new RpcProtocolError('HELLO: identity must be {software: string, name?: string}');
  }
  const rawLimits = raw['limits'];
  if (!isObject(rawLimits)) throw new RpcProtocolError('HELLO: limits missing');
  const limits = {} as AnnouncedLimits;
  for (const name of ANNOUNCED_LIMIT_NAMES) {
    const value = rawLimits[name];
    const { min, max } = LIMIT_BOUNDS[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new RpcProtocolError(`HELLO: limit ${name} must be an integer in [${min}, ${max}], got ${quote(value)}`);
    }
    limits[name] = value;
  }
  const features = raw['features'] ?? [];
  if (!Array.isArray(features) || features.length > MAX_FEATURES || !features.every((f) => shortString(f, 64))) {
    throw new RpcProtocolError('HELLO: features must be a list of short strings');
  }
  const hello: Hello = {
    protocol: PROTOCOL_NAME,
    versions: versions as number[],
    role,
    identity: { software: identity['software'] },
    limits,
    features: features,
  };
  if (typeof identity['name'] === 'string') hello.identity.name = identity['name'];
  return hello;
}

/** The highest version both sides speak, or undefined. */
export function chooseVersion(ours: readonly number[], theirs: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const version of theirs) if (ours.includes(version) && (best === undefined || version > best)) best = version;
  return best;
}

function decodeWireError(value: unknown, what: string): WireError {
  if (!isObject(value) || !shortString(value['code'], 128) || typeof value['message'] !== 'string') {
    throw new RpcProtocolError(`${what}: error must be {code: string, message: string}`);
  }
  const error: WireError = { code: value['code'], message: value['message'] };
  if (value['remoteCode'] !== undefined) {
    if (!shortString(value['remoteCode'], 128)) throw new RpcProtocolError(`${what}: error.remoteCode must be a short string`);
    error.remoteCode = value['remoteCode'];
  }
  if (value['details'] !== undefined) error.details = value['details'];
  return error;
}

export function decodeStreamHeaders(payload: Buffer): StreamHeaders {
  const raw = parseJsonObject(payload, 'HEADERS');
  switch (raw['kind']) {
    case 'request': {
      const endpoint = raw['endpoint'];
      if (typeof endpoint !== 'string' || endpoint.length === 0 || endpoint.length > MAX_ENDPOINT_NAME) {
        throw new RpcProtocolError(`HEADERS: request endpoint must be a string of 1..${MAX_ENDPOINT_NAME} characters`);
      }
      const metadata = raw['metadata'] ?? {};
      if (!isObject(metadata)) throw new RpcProtocolError('HEADERS: request metadata must be an object of strings');
      // JSON.parse made a fresh plain object: check it in place rather than copying it.
      let count = 0;
      for (const key in metadata) {
        if (++count > MAX_METADATA_ENTRIES || typeof metadata[key] !== 'string') {
          throw new RpcProtocolError(`HEADERS: request metadata must be at most ${MAX_METADATA_ENTRIES} string values`);
        }
      }
      const headers: RequestHeaders = { kind: 'request', endpoint, metadata: metadata as Record<string, string> };
      const timeoutMs = raw['timeoutMs'];
      if (timeoutMs !== undefined) {
        if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
          throw new RpcProtocolError('HEADERS: request timeoutMs must be a non-negative number');
        }
        headers.timeoutMs = timeoutMs;
      }
      return headers;
    }
    case 'response':
    case 'trailer': {
      const kind = raw['kind'];
      if (raw['ok'] === true) return { kind, ok: true };
      if (raw['ok'] === false) return { kind, ok: false, error: decodeWireError(raw['error'], `HEADERS ${kind}`) };
      throw new RpcProtocolError(`HEADERS: ${kind} must have ok: true or false`);
    }
    default:
      throw new RpcProtocolError(`HEADERS: unknown kind ${quote(raw['kind'])}`);
  }
}

export function decodeReset(payload: Buffer): WireError {
  return decodeWireError(parseJsonObject(payload, 'RESET'), 'RESET');
}

export function decodeGoaway(payload: Buffer): Goaway {
  const raw = parseJsonObject(payload, 'GOAWAY');
  if (!isU32(raw['lastStreamId']) || !shortString(raw['code'], 128) || typeof raw['message'] !== 'string') {
    throw new RpcProtocolError('GOAWAY: must be {lastStreamId: u32, code: string, message: string}');
  }
  return { lastStreamId: raw['lastStreamId'], code: raw['code'], message: raw['message'] };
}

export function encodeWindow(increment: number): Buffer {
  const payload = Buffer.allocUnsafe(WINDOW_PAYLOAD_BYTES);
  payload.writeUInt32BE(increment, 0);
  return payload;
}

export function decodeWindow(payload: Buffer): number {
  const increment = payload.readUInt32BE(0);
  if (increment === 0) throw new RpcProtocolError('WINDOW frame with a zero increment');
  return increment;
}

export function encodePing(token: bigint): Buffer {
  const payload = Buffer.allocUnsafe(PING_PAYLOAD_BYTES);
  payload.writeBigUInt64BE(token, 0);
  return payload;
}

export function decodePing(payload: Buffer): bigint {
  return payload.readBigUInt64BE(0);
}
