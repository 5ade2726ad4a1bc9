/**
 * Incremental frame parser. Bytes arrive in arbitrary pieces; every header is checked (version,
 * type, flags, stream id, length against the limits) before any payload byte is buffered, so a
 * hostile peer cannot make us allocate more than the limits allow. DATA payloads are handed on
 * as subarrays of the incoming chunks, never copied or reassembled.
 */
import { RpcProtocolError } from './errors.js';
import {
  ALLOWED_FLAGS,
  CONNECTION_FRAME_TYPES,
  FRAME_HEADER_BYTES,
  FrameType,
  JSON_FRAME_TYPES,
  MAX_HELLO_BYTES,
  PING_PAYLOAD_BYTES,
  PROTOCOL_VERSION,
  WINDOW_PAYLOAD_BYTES,
  frameTypeName,
} from './frame.js';

export interface FrameHandler {
  /** A complete frame of any type but DATA. `payload` may be a view into a network buffer. */
  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void;
  /** A DATA frame header: `length` payload bytes follow through onDataChunk. */
  onDataStart(streamId: number, flags: number, length: number): void;
  onDataChunk(streamId: number, chunk: Buffer): void;
  /** After the last chunk of a DATA frame (also for empty DATA frames). */
  onDataEnd(streamId: number, flags: number): void;
}

export interface FrameDecoderLimits {
  maxFramePayload: number;
  maxHeaderBytes: number;
}

const enum State {
  Header,
  Payload,
  Data,
  Failed,
}

export class FrameDecoder {
  readonly #handler: FrameHandler;
  readonly #limits: FrameDecoderLimits;
  readonly #header = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerFill = 0;
  #state = State.Header;
  #sawHello = false;
  #stopped = false;
  // The frame being read.
  #type = 0;
  #flags = 0;
  #streamId = 0;
  #remaining = 0;
  #payload: Buffer | undefined;
  #payloadFill = 0;

  constructor(handler: FrameHandler, limits: FrameDecoderLimits) {
    this.#handler = handler;
    this.#limits = limits;
  }

  /** Stop handing out frames (the connection is going away); later input is ignored. */
  stop(): void {
    this.#stopped = true;
  }

  /** True while a frame is partly received: the input ended mid-frame if the stream ends now. */
  get midFrame(): boolean {
    return this.#headerFill > 0 || this.#state === State.Payload || this.#state === State.Data;
  }

  /**
   * Feed bytes. Throws RpcProtocolError on malformed input (after which the decoder accepts
   * nothing more); handler exceptions propagate unchanged.
   */
  push(chunk: Buffer): void {
    if (this.#state === State.Failed) throw new RpcProtocolError('frame decoder already failed');
    let offset = 0;
    const length = chunk.length;
    while (offset < length && !this.#stopped) {
      switch (this.#state) {
        case State.Header: {
          if (this.#headerFill === 0 && length - offset >= FRAME_HEADER_BYTES) {
            this.#startFrame(chunk, offset);
            offset += FRAME_HEADER_BYTES;
          } else {
            const take = Math.min(FRAME_HEADER_BYTES - this.#headerFill, length - offset);
            chunk.copy(this.#header, this.#headerFill, offset, offset + take);
            this.#headerFill += take;
            offset += take;
            if (this.#headerFill === FRAME_HEADER_BYTES) {
              this.#headerFill = 0;
              this.#startFrame(this.#header, 0);
            } else if (!this.#sawHello) {
              this.#checkHelloStart(this.#headerFill);
            }
          }
          break;
        }
        case State.Data: {
          const take = Math.min(this.#remaining, length - offset);
          const piece = take === length ? chunk : chunk.subarray(offset, offset + take);
          offset += take;
          this.#remaining -= take;
          this.#handler.onDataChunk(this.#streamId, piece);
          if (this.#remaining === 0 && !this.#stopped) this.#finishData();
          break;
        }
        case State.Payload: {
          const take = Math.min(this.#remaining, length - offset);
          if (this.#payload === undefined) {
            if (take === this.#remaining) {
              // The whole payload is in this chunk: hand out a view, no copy.
              const payload = chunk.subarray(offset, offset + take);
              offset += take;
              this.#remaining = 0;
              this.#state = State.Header;
              this.#handler.onFrame(this.#type, this.#flags, this.#streamId, payload);
              break;
            }
            this.#payload = Buffer.allocUnsafe(this.#remaining);
            this.#payloadFill = 0;
          }
          chunk.copy(this.#payload, this.#payloadFill, offset, offset + take);
          this.#payloadFill += take;
          this.#remaining -= take;
          offset += take;
          if (this.#remaining === 0) {
            const payload = this.#payload;
            this.#payload = undefined;
            this.#state = State.Header;
            this.#handler.onFrame(this.#type, this.#flags, this.#streamId, payload);
          }
          break;
        }
      }
    }
  }

  #fail(message: string): never {
    this.#state = State.Failed;
    this.#payload = undefined;
    throw new RpcProtocolError(message);
  }

  /**
   * The first bytes of a connection can only be a HELLO header's fixed start, so a peer that
   * speaks something else is recognised from its first byte, even when it sent less than a
   * header (a short banner would otherwise wait for the HELLO timeout).
   */
  #checkHelloStart(fill: number): void {
    for (let i = 0; i < Math.min(fill, HELLO_HEADER_START.length); i++) {
      if (this.#header[i] !== HELLO_HEADER_START[i]) this.#fail(`peer does not speak ${describeHelloMismatch(this.#header.subarray(0, fill))}`);
    }
  }

  #startFrame(source: Buffer, at: number): void {
    const version = source[at] as number;
    const type = source[at + 1] as number;
    const flags = source.readUInt16BE(at + 2);
    const streamId = source.readUInt32BE(at + 4);
    const length = source.readUInt32BE(at + 8);

    if (!this.#sawHello) {
      if (version !== PROTOCOL_VERSION || type !== FrameType.HELLO || flags !== 0 || streamId !== 0 || length > MAX_HELLO_BYTES) {
        // Show what arrived (up to 40 bytes when the chunk has them): a banner is easy to recognise.
        this.#fail(`peer does not speak ${describeHelloMismatch(source.subarray(at, at + 40))}`);
      }
      this.#sawHello = true;
    } else {
      if (version !== PROTOCOL_VERSION) this.#fail(`frame with unsupported version ${version}`);
      if (type === FrameType.HELLO) this.#fail('HELLO sent twice');
    }
    const allowed = ALLOWED_FLAGS[type];
    if (allowed === undefined) this.#fail(`unknown frame type 0x${type.toString(16)}`);
    const name = frameTypeName(type);
    if ((flags & ~allowed) !== 0) this.#fail(`${name} frame with invalid flags 0x${flags.toString(16)}`);
    if (CONNECTION_FRAME_TYPES.has(type)) {
      if (streamId !== 0) this.#fail(`${name} frame on stream ${streamId} (must be 0)`);
    } else if (streamId === 0 && type !== FrameType.WINDOW) {
      this.#fail(`${name} frame on stream 0`);
    }
    if (type === FrameType.HELLO) {
      // Checked above against MAX_HELLO_BYTES: our limits are not agreed yet.
    } else if (length > this.#limits.maxFramePayload) {
      this.#fail(`${name} frame of ${length} bytes exceeds the frame limit of ${this.#limits.maxFramePayload}`);
    } else if (JSON_FRAME_TYPES.has(type) && length > this.#limits.maxHeaderBytes) {
      this.#fail(`${name} frame of ${length} bytes exceeds the header limit of ${this.#limits.maxHeaderBytes}`);
    }
    if (type === FrameType.WINDOW && length !== WINDOW_PAYLOAD_BYTES) this.#fail(`WINDOW frame of ${length} bytes (must be ${WINDOW_PAYLOAD_BYTES})`);
    if ((type === FrameType.PING || type === FrameType.PONG) && length !== PING_PAYLOAD_BYTES) {
      this.#fail(`${name} frame of ${length} bytes (must be ${PING_PAYLOAD_BYTES})`);
    }
    if (type === FrameType.MESSAGE && (flags & 0x3) === 0x3) this.#fail('MESSAGE frame with both MORE and END');

    this.#type = type;
    this.#flags = flags;
    this.#streamId = streamId;
    this.#remaining = length;
    if (type === FrameType.DATA) {
      this.#state = State.Data;
      this.#handler.onDataStart(streamId, flags, length);
      if (length === 0 && !this.#stopped) this.#finishData();
    } else if (length === 0) {
      this.#state = State.Header;
      this.#handler.onFrame(type, flags, streamId, EMPTY);
    } else {
      this.#state = State.Payload;
    }
  }

  #finishData(): void {
    this.#state = State.Header;
    this.#handler.onDataEnd(this.#streamId, this.#flags);
  }
}

const EMPTY = Buffer.alloc(0);
/** Version 1, type HELLO, no flags, stream 0: the first 8 bytes any peer must send. */
const HELLO_HEADER_START = [PROTOCOL_VERSION, FrameType.HELLO, 0, 0, 0, 0, 0, 0];

/** Say what the first bytes looked like: a shell banner or an HTTP reply is easy to recognise. */
function describeHelloMismatch(header: Buffer): string {
  const printable = header.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `zferry-rpc: expected a HELLO frame, got "${printable}" (hex ${header.toString('hex')})`;
}
