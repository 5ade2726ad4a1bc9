/**
 * The calling side of one call on a multiplexed connection: opens a stream, sends the request
 * (and its byte stream), turns what comes back into a result or the right RpcError, and
 * carries cancellation and the deadline to the peer as a RESET.
 */
import type { Readable } from 'node:stream';
import { CallScope } from './call-scope.js';
import type { AnyEndpointDef, CallOptions, StreamResponse } from './contract.js';
import { RpcError, RpcInvalidRequestError, RpcInvalidResponseError, RpcStreamSourceError, errorMessage } from './errors.js';
import { decodeMessage, encodeMessage } from './message-codec.js';
import type { Multiplexer } from './mux.js';
import type { RpcStream, StreamEvents } from './stream.js';
import { IncomingByteStream } from './stream-receiver.js';
import { sendByteStream } from './send-byte-stream.js';
import type { StreamSender } from './stream-sender.js';
import { destroyQuietly, isReadable } from './readable.js';
import { validate } from './validation.js';
import { encodeJson } from './wire.js';
import type { RequestHeaders, ResponseHeaders, TrailerHeaders } from './wire.js';
import { rpcErrorToWire, wireToError } from './wire-error.js';

export interface OutgoingCallInit {
  mux: Multiplexer;
  wireName: string;
  def: AnyEndpointDef;
  request: unknown;
  requestStream: Readable | undefined;
  options: CallOptions | undefined;
  /** Called once when the call holds no more resources (stream closed, timers cleared). */
  onFinished: (call: OutgoingCall) => void;
}

/** Encoded request headers of plain calls (no metadata, no deadline), per endpoint: the common case. */
const plainHeaders = new Map<string, Buffer>();
const MAX_PLAIN_HEADERS = 1024;

function requestHeaders(endpoint: string, metadata: Record<string, string> | undefined, timeoutMs: number | undefined): Buffer {
  const plain = timeoutMs === undefined && (metadata === undefined || Object.keys(metadata).length === 0);
  if (plain) {
    const cached = plainHeaders.get(endpoint);
    if (cached !== undefined) return cached;
  }
  const headers: RequestHeaders = { kind: 'request', endpoint, metadata: metadata ?? {} };
  if (timeoutMs !== undefined) headers.timeoutMs = timeoutMs;
  const encoded = encodeJson(headers);
  if (plain && plainHeaders.size < MAX_PLAIN_HEADERS) plainHeaders.set(endpoint, encoded);
  return encoded;
}

export class OutgoingCall implements StreamEvents {
  readonly promise: Promise<unknown>;
  readonly #init: OutgoingCallInit;
  #resolve!: (value: unknown) => void;
  #reject!: (error: RpcError) => void;
  #settled = false;
  #finished = false;
  #scope: CallScope | undefined;
  #body: Buffer | undefined;
  #cancelWait: (() => void) | undefined;
  #stream: RpcStream | undefined;
  #sender: StreamSender | undefined;
  #responseStream: IncomingByteStream | undefined;
  #sourceError: RpcStreamSourceError | undefined;

  constructor(init: OutgoingCallInit) {
    this.#init = init;
    this.promise = new Promise<unknown>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  start(): void {
    const { def, wireName, options, requestStream } = this.#init;
    if (def.stream === 'request' && !isReadable(requestStream)) {
      this.#fail(new RpcInvalidRequestError(`${wireName} takes a request byte stream: pass a Readable`));
      return;
    }
    const metadata = options?.metadata;
    if (metadata !== undefined && (typeof metadata !== 'object' || !Object.values(metadata).every((v) => typeof v === 'string'))) {
      this.#fail(new RpcInvalidRequestError(`${wireName}: metadata values must be strings`));
      return;
    }
    if (options?.signal !== undefined || options?.timeoutMs !== undefined) {
      try {
        this.#scope = new CallScope(options);
      } catch (error) {
        this.#fail(new RpcInvalidRequestError(`${wireName}: ${errorMessage(error)}`, { cause: error }));
        return;
      }
    }
    try {
      this.#body = encodeMessage(this.#init.request);
    } catch (error) {
      this.#fail(new RpcInvalidRequestError(`${wireName}: request cannot be encoded: ${errorMessage(error)}`, { cause: error }));
      return;
    }
    this.#scope?.onAbort((error) => this.#abort(error));
    if (this.#settled) return;
    this.#cancelWait = this.#init.mux.whenCanOpen((error) => {
      this.#cancelWait = undefined;
      if (error !== undefined) this.#fail(error);
      else this.#open();
    });
  }

  #open(): void {
    const { mux, wireName, def, options } = this.#init;
    const body = this.#body as Buffer;
    const peer = mux.peerLimits;
    if (body.length > peer.maxMessageBytes) {
      this.#fail(new RpcInvalidRequestError(`${wireName}: request of ${body.length} bytes exceeds the peer's message limit of ${peer.maxMessageBytes}`));
      return;
    }
    const remaining = this.#scope?.remainingMs();
    const encoded = requestHeaders(wireName, options?.metadata, remaining);
    if (encoded.length > peer.maxHeaderBytes) {
      this.#fail(
        new RpcInvalidRequestError(`${wireName}: request headers (metadata) of ${encoded.length} bytes exceed the peer's limit of ${peer.maxHeaderBytes}`),
      );
      return;
    }
    const stream = mux.openStream(this);
    this.#stream = stream;
    this.#body = undefined;
    mux.sendHeaders(stream, encoded, false);
    const withStream = def.stream === 'request';
    mux.sendMessage(stream, body, !withStream);
    if (withStream) this.#startSender(stream, this.#init.requestStream as Readable);
  }

  #startSender(stream: RpcStream, source: Readable): void {
    this.#sender = sendByteStream(this.#init.mux, stream, source, {
      // The call still waits for the peer's answer, then fails with this (see #settle).
      sourceFailed: (message, error) => {
        this.#sourceError = new RpcStreamSourceError(`request stream failed: ${message}`, { cause: error });
      },
      trailerSent: () => this.#checkDone(),
    });
  }

  // ---- stream events ----

  headers(headers: ResponseHeaders | TrailerHeaders): void {
    if (headers.kind === 'response') {
      if (!headers.ok) this.#fail(wireToError(headers.error));
    } else if (headers.ok) {
      this.#responseStream?.finish();
    } else {
      this.#responseStream?.fail(wireToError(headers.error));
    }
    this.#checkDone();
  }

  message(body: Buffer, end: boolean): void {
    const { def, wireName } = this.#init;
    const decoded = decodeMessage(body);
    const result = validate(def.response, decoded, 'response');
    if (!result.ok) {
      this.#fail(new RpcInvalidResponseError(`${wireName}: ${result.message}`, { cause: result.error }), 'RPC_INVALID_RESPONSE');
      return;
    }
    if (def.stream === 'response') {
      if (end) {
        this.#fail(new RpcInvalidResponseError(`${wireName}: the peer answered without the byte stream this endpoint returns`));
        return;
      }
      const stream = this.#stream as RpcStream;
      const mux = this.#init.mux;
      this.#responseStream = new IncomingByteStream({
        consumed: (bytes) => mux.consumed(stream, bytes),
        abandoned: () => {
          // The consumer stopped reading: stop the producer on the far side.
          mux.reset(stream, { code: 'RPC_CANCELLED', message: 'the receiver stopped reading the stream' });
          this.#cleanup();
        },
      });
      this.#settle({ response: result.value, stream: this.#responseStream } satisfies StreamResponse<unknown>);
    } else {
      if (!end) {
        this.#fail(new RpcInvalidResponseError(`${wireName}: the peer sent a byte stream this endpoint does not return`), 'RPC_INVALID_RESPONSE');
        return;
      }
      this.#settle(result.value);
    }
    this.#checkDone();
  }

  data(chunk: Buffer): void {
    if (this.#responseStream !== undefined) this.#responseStream.deliver(chunk);
    else this.#init.mux.consumed(this.#stream as RpcStream, chunk.length);
  }

  aborted(error: RpcError): void {
    // RESET by the peer, or the connection ended the stream.
    if (!this.#settled) this.#fail(error);
    else this.#responseStream?.fail(error);
    this.#cleanup();
  }

  writable(): void {
    this.#sender?.wake();
  }

  // ---- ending ----

  #settle(value: unknown): void {
    if (this.#settled) return;
    if (this.#sourceError !== undefined) {
      this.#fail(this.#sourceError);
      return;
    }
    this.#settled = true;
    this.#resolve(value);
  }

  /** Reject (once) and release everything; `resetCode` tells the peer why if the stream is open. */
  #fail(error: RpcError, resetCode = 'RPC_CANCELLED'): void {
    if (!this.#settled) {
      this.#settled = true;
      this.#reject(this.#sourceError ?? error);
    }
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed) this.#init.mux.reset(stream, { code: resetCode, message: `call failed: ${error.message}` });
    this.#cleanup();
  }

  /** Cancelled or deadline passed (caller side). */
  #abort(error: RpcError): void {
    if (this.#finished) return;
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed) this.#init.mux.reset(stream, rpcErrorToWire(error));
    if (!this.#settled) this.#fail(error);
    else this.#responseStream?.fail(error);
    this.#cleanup();
  }

  /** Done once settled and the stream is closed both ways. */
  #checkDone(): void {
    if (this.#settled && (this.#stream === undefined || this.#stream.closed)) this.#cleanup();
  }

  #cleanup(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#cancelWait?.();
    this.#cancelWait = undefined;
    this.#scope?.dispose();
    this.#sender?.stop();
    const stream = this.#stream;
    if (stream !== undefined) this.#init.mux.setSending(stream, false);
    // Pipeline semantics: a request stream we did not send to its end is destroyed.
    destroyQuietly(this.#init.requestStream);
    this.#init.onFinished(this);
  }
}
