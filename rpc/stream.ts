/** Per-stream state of a multiplexed connection: half-close, windows, what may arrive next. */
import type { RpcError } from './errors.js';
import { ReceiveWindow } from './receive-window.js';
import type { ResponseHeaders, TrailerHeaders } from './wire.js';

/**
 * What the peer may send next on a stream: the response HEADERS (streams we opened), the
 * MESSAGE body, DATA then a trailer, or nothing more.
 */
export type ReceivePhase = 'headers' | 'message' | 'data' | 'done';

/** How the call on a stream hears about what arrives. Handlers must not throw (but RpcProtocolError). */
export interface StreamEvents {
  /** Response headers or a trailer. */
  headers(headers: ResponseHeaders | TrailerHeaders, end: boolean): void;
  /** A complete MESSAGE body (fragments reassembled). */
  message(body: Buffer, end: boolean): void;
  /** A piece of DATA payload. */
  data(chunk: Buffer): void;
  /** The peer reset the stream, or the connection ended it (lost, GOAWAY, protocol error). */
  aborted(error: RpcError): void;
  /** Send credit arrived or the transport drained. */
  writable(): void;
}

export class RpcStream {
  readonly id: number;
  /** Opened by this side. */
  readonly local: boolean;
  events: StreamEvents;
  /** DATA credit we may still use towards the peer. */
  sendWindow: number;
  /** DATA credit towards us: what the peer may still use, what goes back when. */
  readonly receive: ReceiveWindow;
  phase: ReceivePhase;
  sentEnd = false;
  receivedEnd = false;
  closed = false;
  /** MESSAGE fragments received so far (only for bodies that span frames). */
  messageParts: Buffer[] | undefined;
  messageBytes = 0;
  /** What messageParts are charged against the message budget (see message-budget.ts). */
  messageCharge = 0;
  /**
   * A limit on the incoming MESSAGE below the connection's maxMessageBytes (0: none); the
   * serving side sets it from the endpoint's maxRequestBytes. Exceeding it resets the stream
   * (RPC_REQUEST_TOO_LARGE) instead of failing the connection.
   */
  messageLimit = 0;
  /** Whose messageLimit it is (the endpoint), for the refusal's message. */
  messageLimitOwner = '';

  constructor(id: number, local: boolean, events: StreamEvents, sendWindow: number, receive: ReceiveWindow) {
    this.id = id;
    this.local = local;
    this.events = events;
    this.sendWindow = sendWindow;
    this.receive = receive;
    this.phase = local ? 'headers' : 'message';
  }
}
