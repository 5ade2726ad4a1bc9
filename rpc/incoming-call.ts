/**
 * The serving side of one call: finds the handler, validates the request before the handler
 * runs, gives the handler a CallContext whose signal aborts on cancellation, deadline or a
 * lost connection, and sends back the response (and its byte stream) or the error.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { CallContext } from './contract.js';
import { MAX_TIMER_MS } from './call-scope.js';
import { RpcDeadlineError, RpcInvalidRequestError, RpcUnknownEndpointError, errorMessage } from './errors.js';
import type { RpcError } from './errors.js';
import { decodeMessage, encodeMessage } from './message-codec.js';
import type { Multiplexer } from './mux.js';
import type { HandlerRegistry, RegisteredEndpoint } from './registry.js';
import type { RpcStream, StreamEvents } from './stream.js';
import { IncomingByteStream } from './stream-receiver.js';
import { sendByteStream } from './send-byte-stream.js';
import type { StreamSender } from './stream-sender.js';
import { destroyQuietly, isReadable } from './readable.js';
import type { PeerIdentity } from '../transport/types.js';
import { validate } from './validation.js';
import { RESPONSE_OK_BYTES, encodeWithError } from './wire.js';
import type { RequestHeaders, ResponseHeaders, TrailerHeaders, WireError } from './wire.js';
import { handlerErrorToWire, rpcErrorToWire, wireToError } from './wire-error.js';

const REQUEST_NOT_NEEDED: WireError = { code: 'RPC_CANCELLED', message: 'response complete; the rest of the request is not needed' };

export interface IncomingCallInit {
  mux: Multiplexer;
  stream: RpcStream;
  headers: RequestHeaders;
  registry: HandlerRegistry;
  peer: PeerIdentity;
  logger: Logger | undefined;
  onFinished: (call: IncomingCall) => void;
}

export class IncomingCall implements StreamEvents {
  readonly #init: IncomingCallInit;
  readonly #mux: Multiplexer;
  readonly #stream: RpcStream;
  #entry: RegisteredEndpoint | undefined;
  #controller: AbortController | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #requestStream: IncomingByteStream | undefined;
  #sender: StreamSender | undefined;
  #responseSource: Readable | undefined;
  #handlerRunning = false;
  #responded = false;
  #abortedWith: RpcError | undefined;
  #finished = false;

  constructor(init: IncomingCallInit) {
    this.#init = init;
    this.#mux = init.mux;
    this.#stream = init.stream;
  }

  start(): void {
    const { headers, registry } = this.#init;
    this.#entry = registry.lookup(headers.endpoint);
    if (this.#entry === undefined) {
      this.#respondError(rpcErrorToWire(new RpcUnknownEndpointError(`unknown endpoint ${headers.endpoint}`)));
      return;
    }
    // Refused as it arrives, before the mux buffers more of it than the endpoint can need.
    const { maxRequestBytes } = this.#entry.def;
    if (maxRequestBytes < this.#mux.limits.maxMessageBytes) {
      this.#stream.messageLimit = maxRequestBytes;
      this.#stream.messageLimitOwner = headers.endpoint;
    }
    // Beyond the largest timer delay (~24.8 days) node would fire at once: treat as no deadline.
    if (headers.timeoutMs !== undefined && headers.timeoutMs <= MAX_TIMER_MS) {
      const timeoutMs = headers.timeoutMs;
      this.#deadlineTimer = setTimeout(() => {
        this.#deadlineTimer = undefined;
        const error = new RpcDeadlineError(`deadline exceeded: ${headers.endpoint} did not finish within ${timeoutMs} ms`);
        this.#mux.reset(this.#stream, rpcErrorToWire(error));
        this.aborted(error);
      }, timeoutMs);
    }
  }

  // ---- stream events ----

  message(body: Buffer, end: boolean): void {
    const value = decodeMessage(body);
    const entry = this.#entry;
    if (entry === undefined || this.#responded || this.#abortedWith !== undefined) return;
    const { endpoint } = this.#init.headers;
    const wantsStream = entry.def.stream === 'request';
    if (wantsStream === end) {
      const problem = wantsStream ? 'expects a request byte stream' : 'takes no request byte stream';
      this.#respondError(rpcErrorToWire(new RpcInvalidRequestError(`${endpoint} ${problem}`)));
      return;
    }
    const request = validate(entry.def.request, value, 'request');
    if (!request.ok) {
      this.#respondError(rpcErrorToWire(new RpcInvalidRequestError(`${endpoint}: ${request.message}`)));
      return;
    }
    // The AbortController is made on first use: most handlers never look at the signal, and
    // creating one per call is a measurable share of a small call's cost.
    const signalOfCall = (): AbortSignal => this.#signal();
    const ctx: CallContext = {
      get signal(): AbortSignal {
        return signalOfCall();
      },
      peer: this.#init.peer,
      metadata: this.#init.headers.metadata,
    };
    if (this.#init.headers.timeoutMs !== undefined) ctx.deadline = Date.now() + this.#init.headers.timeoutMs;
    let pending: unknown;
    this.#handlerRunning = true;
    try {
      if (wantsStream) {
        const stream = this.#stream;
        this.#requestStream = new IncomingByteStream({
          consumed: (bytes) => this.#mux.consumed(stream, bytes),
          // The handler gave up on the stream; its answer (and our RESET) will stop the sender.
          abandoned: () => {},
        });
        pending = entry.handler.call(entry.implementation, request.value, this.#requestStream, ctx);
      } else {
        pending = entry.handler.call(entry.implementation, request.value, ctx);
      }
    } catch (error) {
      // Whatever the handler threw goes on as it is: #onHandlerError maps any value to the wire.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      pending = Promise.reject(error);
    }
    Promise.resolve(pending).then(
      (result) => this.#onResult(result),
      (error: unknown) => this.#onHandlerError(error),
    );
  }

  headers(headers: ResponseHeaders | TrailerHeaders): void {
    // Only a trailer reaches a serving stream (the mux checks the order).
    if (headers.kind !== 'trailer') return;
    if (headers.ok) this.#requestStream?.finish();
    else this.#requestStream?.fail(wireToError(headers.error));
    this.#checkDone();
  }

  data(chunk: Buffer): void {
    if (this.#requestStream !== undefined) this.#requestStream.deliver(chunk);
    else this.#mux.consumed(this.#stream, chunk.length);
  }

  #signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortedWith !== undefined) this.#controller.abort(this.#abortedWith);
    }
    return this.#controller.signal;
  }

  aborted(error: RpcError): void {
    if (this.#abortedWith !== undefined) return;
    this.#abortedWith = error;
    this.#controller?.abort(error);
    this.#requestStream?.fail(error);
    this.#sender?.stop();
    destroyQuietly(this.#responseSource);
    this.#checkDone();
  }

  writable(): void {
    this.#sender?.wake();
  }

  // ---- answering ----

  #onResult(result: unknown): void {
    this.#handlerRunning = false;
    const entry = this.#entry as RegisteredEndpoint;
    const endpoint = this.#init.headers.endpoint;
    if (this.#abortedWith !== undefined || this.#stream.closed) {
      // Nobody is listening any more; a stream the handler produced must not leak.
      if (entry.def.stream === 'response') destroyQuietly(streamOf(result));
      this.#checkDone();
      return;
    }
    let value = result;
    let source: Readable | undefined;
    if (entry.def.stream === 'response') {
      source = streamOf(result);
      if (source === undefined) {
        this.#respondError(handlerErrorToWire(new Error(`handler of ${endpoint} did not return { response, stream: Readable }`)));
        return;
      }
      value = (result as { response: unknown }).response;
    }
    let body: Buffer;
    try {
      body = encodeMessage(value);
    } catch (error) {
      destroyQuietly(source);
      this.#respondError({
        code: 'RPC_REMOTE',
        remoteCode: 'RPC_RESPONSE_UNENCODABLE',
        message: `${endpoint}: response cannot be encoded: ${errorMessage(error)}`,
      });
      return;
    }
    const limit = this.#mux.peerLimits.maxMessageBytes;
    if (body.length > limit) {
      destroyQuietly(source);
      this.#respondError({
        code: 'RPC_REMOTE',
        remoteCode: 'RPC_RESPONSE_TOO_LARGE',
        message: `${endpoint}: response of ${body.length} bytes exceeds the caller's limit of ${limit}`,
      });
      return;
    }
    this.#mux.sendHeaders(this.#stream, RESPONSE_OK_BYTES, false);
    this.#mux.sendMessage(this.#stream, body, source === undefined);
    if (source === undefined) this.#afterResponse();
    else this.#sendStream(source);
  }

  #sendStream(source: Readable): void {
    this.#responseSource = source;
    this.#sender = sendByteStream(this.#mux, this.#stream, source, {
      sourceFailed: (message) => {
        this.#init.logger?.warn({ endpoint: this.#init.headers.endpoint, peer: this.#init.peer.name, err: message }, 'rpc response stream source failed');
      },
      trailerSent: () => this.#afterResponse(),
    });
  }

  #onHandlerError(error: unknown): void {
    this.#handlerRunning = false;
    if (this.#abortedWith !== undefined || this.#stream.closed) {
      this.#checkDone();
      return;
    }
    this.#init.logger?.debug({ endpoint: this.#init.headers.endpoint, peer: this.#init.peer.name, err: errorMessage(error) }, 'rpc handler failed');
    this.#respondError(handlerErrorToWire(error));
  }

  #respondError(error: WireError): void {
    const payload = encodeWithError((e) => ({ kind: 'response', ok: false, error: e }) satisfies ResponseHeaders, error, this.#mux.headerLimit);
    this.#mux.sendHeaders(this.#stream, payload, true);
    this.#afterResponse();
  }

  /** Our half is complete: if the caller is still sending, tell it to stop. */
  #afterResponse(): void {
    this.#responded = true;
    if (!this.#stream.closed && !this.#stream.receivedEnd) this.#mux.reset(this.#stream, REQUEST_NOT_NEEDED);
    const requestStream = this.#requestStream;
    if (!this.#handlerRunning) destroyQuietly(requestStream);
    this.#checkDone();
  }

  /** Finished once the stream is closed and the handler has returned. */
  #checkDone(): void {
    if (this.#finished || this.#handlerRunning || !this.#stream.closed) return;
    this.#finished = true;
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    this.#mux.setSending(this.#stream, false);
    this.#init.onFinished(this);
  }
}

function streamOf(result: unknown): Readable | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const stream = (result as { stream?: unknown }).stream;
  return isReadable(stream) ? stream : undefined;
}
