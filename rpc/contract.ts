/**
 * Typed RPC contracts: a contract names its endpoints once (request type, response type, and
 * which side carries a byte stream); server registration, the network client and LocalRPC are
 * all generic over it, so adding an endpoint needs no stub and no handler boilerplate.
 */
import type { Readable } from 'node:stream';
import { DEFAULT_MAX_REQUEST_BYTES, LIMIT_BOUNDS } from './limits.js';
import type { PeerIdentity } from '../transport/types.js';

/** Anything with a throwing `parse`: zod schemas satisfy it. */
export interface Validator<T> {
  parse(input: unknown): T;
}

/** Which side of a call carries a byte stream: none, the request (push) or the response (pull). */
export type StreamSide = 'none' | 'request' | 'response';

export interface EndpointDef<Req, Res, S extends StreamSide = StreamSide> {
  readonly stream: S;
  /** Runs on the serving side before the handler. */
  readonly request: Validator<Req>;
  /** Runs on the calling side on what the remote answered (a remote may be hostile). */
  readonly response: Validator<Res>;
  /** What the endpoint does, for people and generated references ('' when not given). */
  readonly description: string;
  /** The `code`s of the errors the handler throws: they reach a caller as RPC_REMOTE with that `remoteCode`. */
  readonly errors: readonly string[];
  /**
   * Largest encoded request body the serving side accepts (default DEFAULT_MAX_REQUEST_BYTES,
   * 64 KiB); a larger one is refused with RPC_REQUEST_TOO_LARGE before it is fully buffered.
   * The connection's maxMessageBytes applies on top.
   */
  readonly maxRequestBytes: number;
}

/** What endpoint() takes: the definition, with `stream`, `maxRequestBytes` and the documentation optional. */
interface EndpointSpec<Req, Res> {
  request: Validator<Req>;
  response: Validator<Res>;
  maxRequestBytes?: number;
  description?: string;
  errors?: readonly string[];
}

// eslint-style `any` is needed here: endpoint maps are heterogeneous.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEndpointDef = EndpointDef<any, any, StreamSide>;
export type EndpointMap = Record<string, AnyEndpointDef>;

export interface Contract<E extends EndpointMap = EndpointMap> {
  /** Goes on the wire in front of every endpoint name: `${name}/${endpoint}`. */
  readonly name: string;
  readonly endpoints: E;
}

/** An endpoint without a byte stream (`stream` omitted or 'none'), or with one on the given side. */
export function endpoint<Req, Res>(def: EndpointSpec<Req, Res> & { stream?: 'none' }): EndpointDef<Req, Res, 'none'>;
export function endpoint<Req, Res, S extends StreamSide>(def: EndpointSpec<Req, Res> & { stream: S }): EndpointDef<Req, Res, S>;
export function endpoint<Req, Res>(def: EndpointSpec<Req, Res> & { stream?: StreamSide }): EndpointDef<Req, Res, StreamSide> {
  const maxRequestBytes = def.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const { max } = LIMIT_BOUNDS.maxMessageBytes;
  if (!Number.isInteger(maxRequestBytes) || maxRequestBytes < 1 || maxRequestBytes > max) {
    throw new RangeError(`maxRequestBytes must be an integer in [1, ${max}], got ${String(maxRequestBytes)}`);
  }
  return Object.freeze({
    stream: def.stream ?? 'none',
    request: def.request,
    response: def.response,
    description: def.description ?? '',
    errors: Object.freeze([...(def.errors ?? [])]),
    maxRequestBytes,
  });
}

/** Names a client object uses for itself (and `then`, which would make it look like a promise). */
export const RESERVED_ENDPOINT_NAMES: ReadonlySet<string> = new Set(['close', 'connection', 'activeCallCount', 'then']);

const CONTRACT_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
const ENDPOINT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,126}$/;

export function defineContract<const E extends EndpointMap>(name: string, endpoints: E): Contract<E> {
  if (!CONTRACT_NAME.test(name)) throw new TypeError(`invalid contract name ${JSON.stringify(name)}`);
  for (const [endpointName, def] of Object.entries(endpoints)) {
    if (!ENDPOINT_NAME.test(endpointName)) throw new TypeError(`invalid endpoint name ${JSON.stringify(endpointName)} in contract ${name}`);
    if (RESERVED_ENDPOINT_NAMES.has(endpointName)) throw new TypeError(`endpoint name ${endpointName} in contract ${name} is reserved`);
    if (def.stream !== 'none' && def.stream !== 'request' && def.stream !== 'response') {
      throw new TypeError(`endpoint ${name}/${endpointName} has an invalid stream side`);
    }
    if (!Number.isInteger(def.maxRequestBytes) || def.maxRequestBytes < 1) {
      throw new TypeError(`endpoint ${name}/${endpointName} has an invalid maxRequestBytes (declare endpoints with endpoint())`);
    }
  }
  return Object.freeze({ name, endpoints: Object.freeze({ ...endpoints }) });
}

/** The name of an endpoint on the wire. */
export function wireEndpointName(contract: Contract, endpointName: string): string {
  return `${contract.name}/${endpointName}`;
}

export interface CallContext {
  /** Aborts when the caller cancels, the deadline passes or the connection is lost. */
  signal: AbortSignal;
  peer: PeerIdentity;
  /** Epoch milliseconds (this host's clock) by which the call must finish, if the caller set one. */
  deadline?: number;
  metadata: Record<string, string>;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Deadline for the whole call, byte stream included. */
  timeoutMs?: number;
  /** Travels to the handler as ctx.metadata. */
  metadata?: Record<string, string>;
}

export type RequestOf<D> = D extends EndpointDef<infer Req, infer _Res, infer _S> ? Req : never;
export type ResponseOf<D> = D extends EndpointDef<infer _Req, infer Res, infer _S> ? Res : never;
export type StreamSideOf<D> = D extends EndpointDef<infer _Req, infer _Res, infer S> ? S : never;

export interface StreamResponse<Res> {
  response: Res;
  stream: Readable;
}

export type HandlerOf<D> =
  D extends EndpointDef<infer Req, infer Res, infer S>
    ? S extends 'request'
      ? (req: Req, stream: Readable, ctx: CallContext) => Promise<Res>
      : S extends 'response'
        ? (req: Req, ctx: CallContext) => Promise<StreamResponse<Res>>
        : (req: Req, ctx: CallContext) => Promise<Res>
    : never;

export type ClientMethodOf<D> =
  D extends EndpointDef<infer Req, infer Res, infer S>
    ? S extends 'request'
      ? (req: Req, stream: Readable, opts?: CallOptions) => Promise<Res>
      : S extends 'response'
        ? (req: Req, opts?: CallOptions) => Promise<StreamResponse<Res>>
        : (req: Req, opts?: CallOptions) => Promise<Res>
    : never;

export type EndpointsOf<C> = C extends Contract<infer E> ? E : never;

export type Implementation<C extends Contract> = { [K in keyof EndpointsOf<C>]: HandlerOf<EndpointsOf<C>[K]> };
export type Client<C extends Contract> = { [K in keyof EndpointsOf<C>]: ClientMethodOf<EndpointsOf<C>[K]> };
