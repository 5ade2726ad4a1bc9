/**
 * One multiplexed connection on a byte stream: HELLO exchange, the stream table, per-stream and
 * per-connection flow control, keepalive, GOAWAY and teardown. It knows frames and streams, not
 * calls: rpc/outgoing-call.ts and rpc/incoming-call.ts give the streams their meaning.
 */
import type { Logger } from 'pino';
import {
  RpcConnectionLostError,
  RpcError,
  RpcGoawayError,
  RpcProtocolError,
  RpcRequestTooLargeError,
  RpcResourceExhaustedError,
  errorMessage,
} from './errors.js';
import { FrameDecoder } from './frame-decoder.js';
import type { FrameHandler } from './frame-decoder.js';
import { FrameWriter } from './frame-writer.js';
import { FrameFlag, FrameType, frameTypeName } from './frame.js';
import { acceptHello, buildHello } from './hello.js';
import { Keepalive } from './keepalive.js';
import { LIMIT_BOUNDS } from './limits.js';
import type { AnnouncedLimits, RpcLimits } from './limits.js';
import { ReceiveWindow } from './receive-window.js';
import { RpcStream } from './stream.js';
import { WindowProbe } from './window-probe.js';
import type { StreamEvents } from './stream.js';
import type { TransportConnection } from '../transport/types.js';
import {
  decodeGoaway,
  decodePing,
  decodeReset,
  decodeStreamHeaders,
  decodeWindow,
  encodeJson,
  encodePing,
  encodeWithError,
  encodeWindow,
  RESPONSE_OK,
  RESPONSE_OK_BYTES,
  TRAILER_OK,
  TRAILER_OK_BYTES,
} from './wire.js';
import type { ConnectionRole, Goaway, Hello, RequestHeaders, WireError } from './wire.js';
import { rpcErrorToWire, wireToError } from './wire-error.js';
import { MessageBudget } from './message-budget.js';

export interface MuxOptions {
  role: ConnectionRole;
  limits: RpcLimits;
  /** Announced in HELLO (for the peer's logs). */
  identity?: string | undefined;
  logger?: Logger | undefined;
  /** A budget shared with other connections (a server's), on top of this connection's own. */
  sharedMessageBudget?: MessageBudget | undefined;
  /** The peer opened a stream with a request; set `stream.events` synchronously. */
  onIncomingStream(stream: RpcStream, headers: RequestHeaders): void;
}

/**
 * After a second stream opened, stream windows stay at their base this long even once the
 * connection has one stream again: calls that come one after another keep it crowded.
 */
const CROWDED_HOLD_MS = 250;
/** Largest DATA frame we send, even if the peer accepts larger ones. */
const MAX_DATA_FRAME = 1024 * 1024;
const MAX_WINDOW = 2 ** 31 - 1;
/**
 * A held MESSAGE fragment counts at least this much against the message budget: each costs an
 * allocation and bookkeeping besides its bytes, so tiny fragments must not be nearly free.
 */
const MIN_FRAGMENT_CHARGE = 4 * 1024;
/** GOAWAY code of a graceful shutdown; any other code reports a failure. */
export const GOAWAY_GRACEFUL = 'RPC_GOAWAY';

const NO_EVENTS: StreamEvents = {
  headers() {},
  message() {},
  data() {},
  aborted() {},
  writable() {},
};

type SlotWaiter = (error: RpcError | undefined) => void;

export class Multiplexer implements FrameHandler {
  readonly transport: TransportConnection;
  readonly role: ConnectionRole;
  readonly limits: RpcLimits;
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;

  readonly #options: MuxOptions;
  readonly #logger: Logger | undefined;
  readonly #decoder: FrameDecoder;
  readonly #writer: FrameWriter;
  readonly #streams = new Map<number, RpcStream>();
  readonly #senders = new Set<RpcStream>();
  #slotWaiters: SlotWaiter[] = [];
  #resolveReady!: () => void;
  #rejectReady!: (error: RpcError) => void;
  #resolveClosed!: () => void;

  #peerHello: Hello | undefined;
  #peerLimits: AnnouncedLimits | undefined;
  #nextLocalId: number;
  #lastPeerId = 0;
  #localOpen = 0;
  #peerOpen = 0;
  /** Connection-level DATA credit we may use. */
  #sendWindow = 0;
  /** Connection-level DATA credit towards us: a window that never grows or shrinks. */
  readonly #connectionReceive: ReceiveWindow;
  readonly #windowProbe = new WindowProbe();
  /** Bytes of unfinished MESSAGE bodies held on this connection (see message-budget.ts). */
  readonly #messageBudget: MessageBudget;
  /** When a stream last opened beside others (performance.now()). */
  #crowdedAt = Number.NEGATIVE_INFINITY;

  #goawaySent: Goaway | undefined;
  #goawayReceived: Goaway | undefined;
  #ending = false;
  #peerEnded = false;
  #closeError: RpcError | undefined;
  #isClosed = false;

  #helloTimer: NodeJS.Timeout | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  readonly #keepalive: Keepalive;
  /** Current DATA frame target while its payload arrives (undefined: discard). */
  #dataTarget: RpcStream | undefined;

  constructor(transport: TransportConnection, options: MuxOptions) {
    this.transport = transport;
    this.role = options.role;
    this.limits = options.limits;
    this.#options = options;
    this.#logger = options.logger;
    this.#nextLocalId = options.role === 'initiator' ? 1 : 2;
    this.#connectionReceive = new ReceiveWindow(options.limits.connectionWindow, options.limits.connectionWindow);
    const messageBudget = Math.max(options.limits.maxBufferedMessageBytes, options.limits.maxMessageBytes);
    this.#messageBudget = new MessageBudget(messageBudget, 'connection', options.sharedMessageBudget);
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {}); // Observed by whoever awaits it; never an unhandled rejection.
    this.closed = new Promise<void>((resolve) => (this.#resolveClosed = resolve));
    this.#decoder = new FrameDecoder(this, options.limits);
    const stream = transport.stream;
    this.#writer = new FrameWriter(stream);
    this.#keepalive = new Keepalive(options.limits.keepaliveIntervalMs, options.limits.keepaliveTimeoutMs, {
      sendPing: (payload) => this.#writer.frame(FrameType.PING, 0, 0, payload),
      silent: (silentMs) => this.destroy(new RpcConnectionLostError(`peer ${transport.peer.name} sent nothing for ${silentMs} ms (keepalive timeout)`)),
    });
    stream.on('data', this.#onTransportData);
    stream.on('end', this.#onTransportEnd);
    stream.on('error', this.#onTransportError);
    stream.on('close', this.#onTransportClose);
    this.#writer.frame(FrameType.HELLO, 0, 0, encodeJson(buildHello(this.role, this.limits, options.identity)));
    this.#helloTimer = setTimeout(() => {
      this.destroy(new RpcConnectionLostError(`no HELLO from ${transport.peer.name} within ${this.limits.helloTimeoutMs} ms`));
    }, this.limits.helloTimeoutMs);
  }

  // ---- state for callers ----

  get peerHello(): Hello | undefined {
    return this.#peerHello;
  }

  /** The peer's announced limits (after ready). */
  get peerLimits(): AnnouncedLimits {
    if (this.#peerLimits === undefined) throw new Error('peer limits are known only after HELLO');
    return this.#peerLimits;
  }

  get openStreamCount(): number {
    return this.#streams.size;
  }

  get waitingCallCount(): number {
    return this.#slotWaiters.length;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  get closeError(): RpcError | undefined {
    return this.#closeError;
  }

  /** True once either side sent GOAWAY: no new streams. */
  get goingAway(): boolean {
    return this.#goawaySent !== undefined || this.#goawayReceived !== undefined;
  }

  /** What a header or control JSON payload we send may weigh (before HELLO: the smallest allowed). */
  get headerLimit(): number {
    return this.#peerLimits?.maxHeaderBytes ?? LIMIT_BOUNDS.maxHeaderBytes.min;
  }

  get bytesWritten(): number {
    return this.#writer.bytesWritten;
  }

  /** Bytes of unfinished MESSAGE bodies held now (charged against the message budget). */
  get bufferedMessageBytes(): number {
    return this.#messageBudget.used;
  }

  // ---- opening streams ----

  /**
   * Calls back once a stream may be opened (HELLO done and below the peer's stream limit), or
   * with the error that prevents it. Returns a function that withdraws the request.
   */
  whenCanOpen(callback: SlotWaiter): () => void {
    const refusal = this.#openRefusal();
    if (refusal !== undefined) {
      callback(refusal);
      return () => {};
    }
    if (this.#peerLimits !== undefined && this.#slotWaiters.length === 0 && this.#localOpen < this.#peerLimits.maxConcurrentStreams) {
      callback(undefined);
      return () => {};
    }
    this.#slotWaiters.push(callback);
    return () => {
      const at = this.#slotWaiters.indexOf(callback);
      if (at >= 0) this.#slotWaiters.splice(at, 1);
    };
  }

  /** Open a stream now; only after whenCanOpen called back without error (same tick). */
  openStream(events: StreamEvents): RpcStream {
    const refusal = this.#openRefusal();
    if (refusal !== undefined) throw refusal;
    const id = this.#nextLocalId;
    if (id > 0xffff_ffff) throw new RpcGoawayError('stream ids exhausted on this connection; open a new one');
    this.#nextLocalId += 2;
    const stream = new RpcStream(id, true, events, this.peerLimits.streamWindow, this.#newReceiveWindow());
    this.#noteOpened();
    this.#streams.set(id, stream);
    this.#localOpen += 1;
    return stream;
  }

  #openRefusal(): RpcError | undefined {
    // After the peer's GOAWAY a call is refused as "not started, safe to retry", even once closed.
    if (this.#goawayReceived !== undefined) return new RpcGoawayError(`peer is shutting down: ${this.#goawayReceived.message}`);
    if (this.#isClosed) return this.#closeError ?? new RpcConnectionLostError('connection is closed');
    if (this.#goawaySent !== undefined) return new RpcGoawayError('connection is closing');
    if (this.#nextLocalId > 0xffff_ffff) return new RpcGoawayError('stream ids exhausted on this connection; open a new one');
    return undefined;
  }

  #wakeSlotWaiters(): void {
    const limit = this.#peerLimits?.maxConcurrentStreams;
    if (limit === undefined) return;
    while (this.#slotWaiters.length > 0 && this.#localOpen < limit && !this.#isClosed) {
      const waiter = this.#slotWaiters.shift() as SlotWaiter;
      waiter(undefined); // opens a stream synchronously, raising #localOpen
    }
  }

  #failSlotWaiters(error: RpcError): void {
    const waiters = this.#slotWaiters;
    this.#slotWaiters = [];
    for (const waiter of waiters) waiter(error);
  }

  // ---- sending on a stream ----

  /** `payload`: encoded StreamHeaders (see encodeJson), within the peer's maxHeaderBytes. */
  sendHeaders(stream: RpcStream, payload: Buffer, end: boolean): void {
    if (stream.closed || stream.sentEnd) return;
    this.#writer.frame(FrameType.HEADERS, end ? FrameFlag.END : 0, stream.id, payload);
    if (end) this.#sentEnd(stream);
  }

  /** A whole MESSAGE body, in fragments of at most the peer's frame limit. */
  sendMessage(stream: RpcStream, body: Buffer, end: boolean): void {
    if (stream.closed || stream.sentEnd) return;
    const maxFrame = this.peerLimits.maxFramePayload;
    let offset = 0;
    do {
      const length = Math.min(maxFrame, body.length - offset);
      const last = offset + length >= body.length;
      const flags = last ? (end ? FrameFlag.END : 0) : FrameFlag.MORE;
      const fragment = length === body.length ? body : body.subarray(offset, offset + length);
      this.#writer.frame(FrameType.MESSAGE, flags, stream.id, fragment);
      offset += length;
    } while (offset < body.length);
    if (end) this.#sentEnd(stream);
  }

  /** DATA credit available to a stream right now. */
  credit(stream: RpcStream): number {
    if (stream.closed || stream.sentEnd) return 0;
    return Math.min(stream.sendWindow, this.#sendWindow);
  }

  get maxDataFrame(): number {
    return Math.min(MAX_DATA_FRAME, this.peerLimits.maxFramePayload);
  }

  /** One DATA frame; the caller stays within credit(). Returns false when the transport is full. */
  sendData(stream: RpcStream, chunks: readonly Buffer[], length: number): boolean {
    if (stream.closed || stream.sentEnd) return false;
    stream.sendWindow -= length;
    this.#sendWindow -= length;
    return this.#writer.data(stream.id, 0, chunks, length);
  }

  get writerBlocked(): boolean {
    return this.#writer.blocked;
  }

  whenWritable(callback: () => void): void {
    this.#writer.whenWritable(callback);
  }

  /** Mark a stream as sending DATA, so connection-level credit wakes it. */
  setSending(stream: RpcStream, sending: boolean): void {
    if (sending && !stream.closed) this.#senders.add(stream);
    else this.#senders.delete(stream);
  }

  /** Abort a stream towards the peer. Frames still in flight for it are dropped on arrival. */
  reset(stream: RpcStream, error: WireError): void {
    if (stream.closed) return;
    this.#writer.frame(
      FrameType.RESET,
      0,
      stream.id,
      encodeWithError((e) => e, error, this.headerLimit),
    );
    this.#closeStream(stream);
  }

  /** The receiver of a stream consumed `bytes`: give the credit back (in batches). */
  consumed(stream: RpcStream, bytes: number): void {
    if (this.#isClosed || bytes <= 0) return;
    this.#returnConnectionCredit(bytes);
    if (stream.closed || stream.receivedEnd) return;
    const increment = stream.receive.consumed(bytes, this.#crowded());
    if (increment > 0) this.#writer.frame(FrameType.WINDOW, 0, stream.id, encodeWindow(increment));
  }

  #onPong(payload: Buffer): void {
    const token = decodePing(payload);
    if (!WindowProbe.isProbeToken(token)) {
      this.#keepalive.pong(token);
      return;
    }
    // A window probe's answer: grow the stream's window if credit held it back.
    const stream = this.#windowProbe.finish(token);
    if (stream === undefined || stream.receivedEnd || this.#crowded()) return;
    const increment = stream.receive.grow();
    if (increment > 0) this.#writer.frame(FrameType.WINDOW, 0, stream.id, encodeWindow(increment));
  }

  #newReceiveWindow(): ReceiveWindow {
    return new ReceiveWindow(this.limits.streamWindow, this.limits.maxStreamWindow);
  }

  /** A stream opens (either side; call before adding it): beside others, the connection counts as crowded for a while. */
  #noteOpened(): void {
    if (this.#streams.size > 0) this.#crowdedAt = performance.now();
  }

  /** Other calls share the connection now or did very recently (see receive-window.ts). */
  #crowded(): boolean {
    return this.#streams.size > 1 || performance.now() - this.#crowdedAt < CROWDED_HOLD_MS;
  }

  #returnConnectionCredit(bytes: number): void {
    const increment = this.#connectionReceive.consumed(bytes, false);
    if (increment > 0) this.#writer.frame(FrameType.WINDOW, 0, 0, encodeWindow(increment));
  }

  #sentEnd(stream: RpcStream): void {
    stream.sentEnd = true;
    this.#senders.delete(stream);
    if (stream.receivedEnd) this.#closeStream(stream);
  }

  #receivedEnd(stream: RpcStream): void {
    stream.receivedEnd = true;
    stream.phase = 'done';
    if (stream.sentEnd) this.#closeStream(stream);
  }

  #closeStream(stream: RpcStream): void {
    if (stream.closed) return;
    stream.closed = true;
    this.#dropMessage(stream);
    this.#streams.delete(stream.id);
    this.#senders.delete(stream);
    if (this.#dataTarget === stream) this.#dataTarget = undefined;
    if (stream.local) {
      this.#localOpen -= 1;
      this.#wakeSlotWaiters();
    } else {
      this.#peerOpen -= 1;
    }
    this.#maybeEnd();
  }

  // ---- connection-level operations ----

  /** Round-trip time to the peer in milliseconds. */
  ping(): Promise<number> {
    if (this.#isClosed) return Promise.reject(this.#closeError ?? new RpcConnectionLostError('connection is closed'));
    // No PING may precede the peer's HELLO.
    return this.ready.then(() => this.#keepalive.ping());
  }

  /**
   * Graceful shutdown: no new streams either way, the open ones finish, then the transport is
   * ended. Resolves when it is closed (torn down after closeTimeoutMs if the peer lingers).
   */
  goaway(message = 'closing'): Promise<void> {
    if (!this.#isClosed && this.#goawaySent === undefined) {
      this.#goawaySent = { lastStreamId: this.#lastPeerId, code: GOAWAY_GRACEFUL, message };
      this.#writer.frame(FrameType.GOAWAY, 0, 0, encodeJson(this.#goawaySent));
      this.#failSlotWaiters(new RpcGoawayError('connection is closing'));
      this.#armCloseTimer();
      this.#maybeEnd();
    }
    return this.closed;
  }

  /** Tear down now: every open stream fails with `error`. */
  destroy(error?: Error): void {
    if (this.#isClosed) return;
    const rpcError =
      error === undefined
        ? new RpcConnectionLostError('connection destroyed')
        : error instanceof RpcError
          ? error
          : new RpcConnectionLostError(`connection destroyed: ${errorMessage(error)}`, { cause: error });
    this.#teardown(rpcError);
  }

  // ---- HELLO ----

  #onHello(payload: Buffer): void {
    const { hello, version } = acceptHello(payload, this.role);
    this.#peerHello = hello;
    this.#peerLimits = hello.limits;
    this.#sendWindow = hello.limits.connectionWindow;
    if (this.#helloTimer !== undefined) clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    this.#keepalive.start();
    this.#logger?.debug({ peer: this.transport.peer.name, identity: hello.identity, version }, 'rpc connection ready');
    this.#resolveReady();
    this.#wakeSlotWaiters();
  }

  // ---- receiving ----

  readonly #onTransportData = (chunk: Buffer | string): void => {
    if (this.#isClosed) return;
    this.#keepalive.received();
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    try {
      this.#decoder.push(buffer);
    } catch (error) {
      if (error instanceof RpcProtocolError) this.#protocolError(error);
      else {
        // A bug on our side: say so rather than hang the connection.
        this.#logger?.error({ err: error }, 'rpc: internal error while handling a frame');
        this.destroy(new RpcConnectionLostError(`internal error while handling a frame: ${errorMessage(error)}`, { cause: error }));
      }
    }
  };

  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (type === FrameType.HELLO) {
      this.#onHello(payload);
      return;
    }
    switch (type) {
      case FrameType.HEADERS:
        this.#onHeaders(streamId, flags, payload);
        break;
      case FrameType.MESSAGE:
        this.#onMessage(streamId, flags, payload);
        break;
      case FrameType.WINDOW:
        this.#onWindow(streamId, decodeWindow(payload));
        break;
      case FrameType.RESET:
        this.#onReset(streamId, payload);
        break;
      case FrameType.PING:
        this.#writer.frame(FrameType.PONG, 0, 0, Buffer.from(payload));
        break;
      case FrameType.PONG:
        this.#onPong(payload);
        break;
      case FrameType.GOAWAY:
        this.#onGoaway(decodeGoaway(payload));
        break;
      default:
        throw new RpcProtocolError(`unexpected ${frameTypeName(type)} frame`);
    }
  }

  #isPeerStreamId(id: number): boolean {
    return (id % 2 === 1) === (this.role === 'acceptor');
  }

  /**
   * The stream a frame belongs to; undefined for a stream that existed and is closed now (frames
   * still in flight after a RESET are dropped). A stream that never existed is a protocol error.
   */
  #streamFor(id: number, type: number): RpcStream | undefined {
    const stream = this.#streams.get(id);
    if (stream !== undefined) return stream;
    const neverOpened = this.#isPeerStreamId(id) ? id > this.#lastPeerId : id >= this.#nextLocalId;
    if (neverOpened) throw new RpcProtocolError(`${frameTypeName(type)} frame on stream ${id}, which was never opened`);
    return undefined;
  }

  #onHeaders(id: number, flags: number, payload: Buffer): void {
    const end = (flags & FrameFlag.END) !== 0;
    if (this.#isPeerStreamId(id) && id > this.#lastPeerId) {
      this.#openPeerStream(id, end, payload);
      return;
    }
    const stream = this.#streamFor(id, FrameType.HEADERS);
    if (stream === undefined) {
      // A trailer may still be in flight for a closed stream, but a request never is: it would
      // open a stream on an id already used or passed over, and nobody would ever answer it.
      if (decodeStreamHeaders(payload).kind === 'request') throw new RpcProtocolError(this.#describeStaleRequest(id));
      return;
    }
    // Most headers on an open stream are the canonical "ok" ones: skip the JSON parse for those.
    const headers = payload.equals(RESPONSE_OK_BYTES) ? RESPONSE_OK : payload.equals(TRAILER_OK_BYTES) ? TRAILER_OK : decodeStreamHeaders(payload);
    if (headers.kind === 'request') throw new RpcProtocolError(`request HEADERS on stream ${id}, which is already open (a request must open a new stream)`);
    if (stream.phase === 'headers') {
      if (headers.kind !== 'response') throw new RpcProtocolError(`stream ${id}: expected response HEADERS, got ${headers.kind}`);
      if (headers.ok === end)
        throw new RpcProtocolError(`stream ${id}: ${headers.ok ? 'a successful response must be followed by a MESSAGE' : 'an error response must carry END'}`);
      if (end) this.#receivedEnd(stream);
      else stream.phase = 'message';
    } else if (stream.phase === 'data') {
      if (headers.kind !== 'trailer' || !end) throw new RpcProtocolError(`stream ${id}: only a trailer with END may follow DATA`);
      this.#receivedEnd(stream);
    } else {
      throw new RpcProtocolError(`stream ${id}: unexpected ${headers.kind} HEADERS`);
    }
    stream.events.headers(headers, end);
  }

  /** Why a request on `id` (not open, not above the opener's highest id) is refused. */
  #describeStaleRequest(id: number): string {
    if (!this.#isPeerStreamId(id)) {
      return `request HEADERS on stream ${id}: ${this.role === 'acceptor' ? 'even' : 'odd'} ids are ours, the peer opens ${this.role === 'acceptor' ? 'odd' : 'even'} ones`;
    }
    return `request HEADERS on stream ${id}: stream ids must strictly increase, and ${this.#lastPeerId} was already opened`;
  }

  #openPeerStream(id: number, end: boolean, payload: Buffer): void {
    const headers = decodeStreamHeaders(payload);
    if (headers.kind !== 'request') throw new RpcProtocolError(`stream ${id} opened with ${headers.kind} HEADERS (must be a request)`);
    if (end) throw new RpcProtocolError(`stream ${id}: request HEADERS must be followed by a MESSAGE (END set)`);
    this.#lastPeerId = id;
    if (this.#goawaySent !== undefined || this.#isClosed) {
      // Raced with our GOAWAY: refuse; the caller may retry elsewhere.
      this.#writer.frame(FrameType.RESET, 0, id, encodeJson({ code: 'RPC_GOAWAY', message: 'connection is closing; request not started' }));
      return;
    }
    if (this.#peerOpen >= this.limits.maxConcurrentStreams) {
      throw new RpcProtocolError(`peer opened more than ${this.limits.maxConcurrentStreams} concurrent streams`);
    }
    const peerWindow = this.peerLimits.streamWindow;
    const stream = new RpcStream(id, false, NO_EVENTS, peerWindow, this.#newReceiveWindow());
    this.#noteOpened();
    this.#streams.set(id, stream);
    this.#peerOpen += 1;
    this.#options.onIncomingStream(stream, headers);
  }

  #onMessage(id: number, flags: number, payload: Buffer): void {
    const stream = this.#streamFor(id, FrameType.MESSAGE);
    if (stream === undefined) return;
    if (stream.phase !== 'message') throw new RpcProtocolError(`stream ${id}: unexpected MESSAGE`);
    const total = stream.messageBytes + payload.length;
    if (total > this.limits.maxMessageBytes) {
      throw new RpcProtocolError(`stream ${id}: MESSAGE of more than ${this.limits.maxMessageBytes} bytes`);
    }
    const limit = stream.messageLimit;
    if (limit !== 0 && total > limit) {
      this.#refuseMessage(stream, new RpcRequestTooLargeError(`${stream.messageLimitOwner}: request body of more than ${limit} bytes (the endpoint's limit)`));
      return;
    }
    if ((flags & FrameFlag.MORE) !== 0) {
      this.#keepFragment(stream, payload, total);
      return;
    }
    const body = stream.messageParts === undefined ? payload : Buffer.concat([...stream.messageParts, payload], total);
    this.#dropMessage(stream);
    const end = (flags & FrameFlag.END) !== 0;
    if (end) this.#receivedEnd(stream);
    else stream.phase = 'data';
    stream.events.message(body, end);
  }

  /** Hold a MESSAGE fragment until the body is whole, within the message budget. */
  #keepFragment(stream: RpcStream, payload: Buffer, total: number): void {
    const charge = Math.max(payload.length, MIN_FRAGMENT_CHARGE);
    const refusedBy = this.#messageBudget.take(charge);
    if (refusedBy !== undefined) {
      const error = new RpcResourceExhaustedError(
        `stream ${stream.id}: the ${refusedBy.scope}'s budget for unfinished messages (${refusedBy.limit} bytes) is spent; try again later`,
      );
      this.#refuseMessage(stream, error);
      return;
    }
    stream.messageCharge += charge;
    // A view into a larger network buffer would keep all of that buffer alive: keep a copy of
    // just these bytes then (the decoder's own payload buffers are kept as they are).
    const own = payload.byteOffset === 0 && payload.buffer.byteLength === payload.length;
    (stream.messageParts ??= []).push(own ? payload : copyOf(payload));
    stream.messageBytes = total;
  }

  /** Forget an unfinished MESSAGE and give its bytes back to the budget. */
  #dropMessage(stream: RpcStream): void {
    this.#messageBudget.release(stream.messageCharge);
    stream.messageCharge = 0;
    stream.messageParts = undefined;
    stream.messageBytes = 0;
  }

  /** Refuse a stream's incoming MESSAGE without failing the connection: RESET, and the call fails. */
  #refuseMessage(stream: RpcStream, error: RpcError): void {
    this.reset(stream, rpcErrorToWire(error));
    stream.events.aborted(error);
  }

  onDataStart(id: number, _flags: number, length: number): void {
    if (length > this.#connectionReceive.remaining) {
      throw new RpcProtocolError(`flow control: peer sent ${length} bytes of DATA with ${this.#connectionReceive.remaining} bytes of connection credit`);
    }
    this.#connectionReceive.received(length);
    const stream = this.#streamFor(id, FrameType.DATA);
    if (stream === undefined) {
      // Closed stream: nobody will consume these bytes; onDataChunk gives the credit back.
      this.#dataTarget = undefined;
      return;
    }
    if (stream.phase !== 'data') throw new RpcProtocolError(`stream ${id}: unexpected DATA`);
    if (length > stream.receive.remaining) {
      throw new RpcProtocolError(`flow control: peer sent ${length} bytes of DATA on stream ${id} with ${stream.receive.remaining} bytes of credit`);
    }
    stream.receive.received(length);
    if (stream.receive.canGrow) {
      const now = performance.now();
      if (this.#windowProbe.canStart(now) && !this.#crowded()) {
        this.#writer.frame(FrameType.PING, 0, 0, encodePing(this.#windowProbe.start(stream, now)));
      }
    }
    this.#dataTarget = stream;
  }

  onDataChunk(_id: number, chunk: Buffer): void {
    const target = this.#dataTarget;
    if (target !== undefined && !target.closed) target.events.data(chunk);
    else this.#returnConnectionCredit(chunk.length);
  }

  onDataEnd(): void {
    this.#dataTarget = undefined;
  }

  #onWindow(id: number, increment: number): void {
    if (id === 0) {
      if (this.#sendWindow + increment > MAX_WINDOW) throw new RpcProtocolError('flow control: connection window grew beyond 2^31-1');
      this.#sendWindow += increment;
      for (const stream of this.#senders) stream.events.writable();
      return;
    }
    const stream = this.#streamFor(id, FrameType.WINDOW);
    if (stream === undefined) return;
    if (stream.sendWindow + increment > MAX_WINDOW) throw new RpcProtocolError(`flow control: window of stream ${id} grew beyond 2^31-1`);
    stream.sendWindow += increment;
    stream.events.writable();
  }

  #onReset(id: number, payload: Buffer): void {
    const stream = this.#streamFor(id, FrameType.RESET);
    if (stream === undefined) return;
    const error = decodeReset(payload);
    this.#closeStream(stream);
    stream.events.aborted(wireToError(error));
  }

  #onGoaway(goaway: Goaway): void {
    if (goaway.code !== GOAWAY_GRACEFUL) {
      // The peer reports a failure (e.g. it found our frames malformed) and is closing.
      const message = `peer closed the connection: ${goaway.message}`;
      this.#teardown(goaway.code === 'RPC_PROTOCOL' ? new RpcProtocolError(message) : new RpcConnectionLostError(`${message} (${goaway.code})`));
      return;
    }
    if (this.#goawayReceived === undefined || goaway.lastStreamId < this.#goawayReceived.lastStreamId) this.#goawayReceived = goaway;
    const refusal = new RpcGoawayError(`peer is shutting down (${goaway.message}); call not started`);
    this.#failSlotWaiters(refusal);
    for (const stream of [...this.#streams.values()]) {
      if (stream.local && stream.id > goaway.lastStreamId) {
        this.#closeStream(stream);
        stream.events.aborted(refusal);
      }
    }
    // Answered unless we said goodbye already (an ACK that answers nothing of ours gets one too:
    // then both sides have said it, and the connection can end).
    if (this.#goawaySent === undefined) {
      this.#goawaySent = { lastStreamId: this.#lastPeerId, code: GOAWAY_GRACEFUL, message: 'acknowledged' };
      this.#writer.frame(FrameType.GOAWAY, FrameFlag.ACK, 0, encodeJson(this.#goawaySent));
      this.#armCloseTimer();
    }
    this.#maybeEnd();
  }

  // ---- ending ----

  /**
   * After GOAWAY, once no stream is open: end our half of the transport. The connection is
   * done once the peer has ended its half too, or has said goodbye as well (its GOAWAY): it
   * opens no streams after that, and none of its streams is open, so nothing it could still
   * send matters. Waiting for its end instead would keep e.g. a stdio server alive for as long
   * as the other side keeps the pipe open.
   */
  #maybeEnd(): void {
    if (this.#isClosed || this.#streams.size > 0) return;
    if (!this.#ending) {
      if (this.#goawaySent === undefined && this.#goawayReceived === undefined && !this.#peerEnded) return;
      this.#ending = true;
      // Nothing may be written after this (a late WINDOW or PING would be a write after end).
      this.#writer.end();
    }
    const bothSaidGoodbye = this.#goawaySent !== undefined && this.#goawayReceived !== undefined;
    if (this.#peerEnded || bothSaidGoodbye) this.#finishGracefully();
  }

  #armCloseTimer(): void {
    if (this.#closeTimer !== undefined) return;
    this.#closeTimer = setTimeout(() => {
      this.#closeTimer = undefined;
      this.#teardown(new RpcConnectionLostError(`graceful close did not finish within ${this.limits.closeTimeoutMs} ms`));
    }, this.limits.closeTimeoutMs);
    this.#closeTimer.unref();
  }

  readonly #onTransportEnd = (): void => {
    this.#peerEnded = true;
    if (this.#isClosed) return;
    if (this.#decoder.midFrame) {
      this.#teardown(new RpcConnectionLostError(`${this.transport.peer.name} closed the connection in the middle of a frame`));
      return;
    }
    if (this.#peerHello === undefined) {
      this.#teardown(new RpcConnectionLostError(`${this.transport.peer.name} closed the connection before HELLO`));
      return;
    }
    if (this.#streams.size > 0) {
      this.#teardown(new RpcConnectionLostError(`${this.transport.peer.name} closed the connection with ${this.#streams.size} streams open`));
      return;
    }
    this.#maybeEnd();
  };

  #finishGracefully(): void {
    // Both halves ended: the transport closes by itself; make sure of it.
    this.#teardown(undefined);
  }

  readonly #onTransportError = (error: Error): void => {
    this.#teardown(new RpcConnectionLostError(`connection to ${this.transport.peer.name} failed: ${error.message}`, { cause: error }));
  };

  readonly #onTransportClose = (): void => {
    if (this.#isClosed) return;
    const clean = this.#streams.size === 0 && (this.#ending || this.#peerEnded) && !this.#decoder.midFrame && this.#peerHello !== undefined;
    this.#teardown(clean ? undefined : new RpcConnectionLostError(`connection to ${this.transport.peer.name} closed`));
  };

  #protocolError(error: RpcProtocolError): void {
    if (this.#isClosed) return;
    this.#logger?.warn({ peer: this.transport.peer.name, err: error.message }, 'rpc protocol error; closing the connection');
    // Tell the peer why before going; it may not be able to parse it, which is fine.
    const lastStreamId = this.#lastPeerId;
    const payload = encodeWithError(
      (e) => ({ lastStreamId, code: e.code, message: e.message }) satisfies Goaway,
      { code: error.code, message: error.message },
      this.headerLimit,
    );
    this.#writer.frame(FrameType.GOAWAY, 0, 0, payload);
    this.#writer.flush();
    this.#teardown(error, true);
  }

  /**
   * Close everything once. `error` undefined: a clean close. `linger`: end the transport
   * (letting the last frames out) instead of destroying it at once.
   */
  #teardown(error: RpcError | undefined, linger = false): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closeError = error;
    this.#decoder.stop();
    for (const timer of [this.#helloTimer, this.#closeTimer]) if (timer !== undefined) clearTimeout(timer);
    this.#helloTimer = this.#closeTimer = undefined;
    const failure = error ?? new RpcConnectionLostError('connection closed');
    this.#keepalive.stop(failure);
    this.#rejectReady(failure);
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#senders.clear();
    this.#dataTarget = undefined;
    for (const stream of streams) {
      stream.closed = true;
      this.#dropMessage(stream);
      stream.events.aborted(failure);
    }
    this.#localOpen = this.#peerOpen = 0;
    this.#failSlotWaiters(failure);

    const stream = this.transport.stream;
    stream.off('data', this.#onTransportData);
    stream.off('end', this.#onTransportEnd);
    stream.off('close', this.#onTransportClose);
    stream.off('error', this.#onTransportError);
    stream.on('error', ignore); // a late EPIPE/ECONNRESET after we let go is not news
    // A clean close also lingers: our last frames (GOAWAY ACK, WINDOW) should still get out.
    if ((linger || error === undefined) && !stream.destroyed) {
      this.#writer.close();
      stream.end();
      const kill = setTimeout(() => this.transport.close(), 1000);
      kill.unref();
      stream.once('close', () => clearTimeout(kill));
      stream.resume(); // drain what the peer still sends so it can see our GOAWAY
    } else {
      this.#writer.close();
      this.transport.close();
    }
    if (error !== undefined && !(error instanceof RpcProtocolError)) {
      this.#logger?.debug({ peer: this.transport.peer.name, err: error.message }, 'rpc connection closed');
    }
    this.#resolveClosed();
  }
}

function ignore(): void {}

/** `bytes` in an allocation of their own. */
function copyOf(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}
