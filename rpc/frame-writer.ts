/**
 * Writes frames to the transport. Small frames are gathered and written once per tick (one
 * syscall for many calls); DATA and large MESSAGE payloads go out as header + the caller's own
 * buffers under cork(), so payload bytes are never copied. Order on the wire is the order of
 * the calls to this class.
 */
import type { Writable } from 'node:stream';
import { FRAME_HEADER_BYTES, FrameType, PROTOCOL_VERSION, encodeFrameHeader, writeFrameHeader } from './frame.js';

/** Payloads up to this size are copied into the per-tick batch; larger ones are written as they are. */
const SMALL_PAYLOAD_BYTES = 16 * 1024;

interface PendingFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer | undefined;
}

export class FrameWriter {
  readonly #sink: Writable;
  #pending: PendingFrame[] = [];
  #pendingBytes = 0;
  #flushScheduled = false;
  #closed = false;
  #blocked = false;
  #drainWaiters: Array<() => void> = [];
  /** Bytes handed to the transport, frame headers included. */
  bytesWritten = 0;

  constructor(sink: Writable) {
    this.#sink = sink;
    sink.on('drain', this.#onDrain);
  }

  /** True after a write reported a full transport buffer and until it drains. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Resolves at the next 'drain' (at once if not blocked). */
  whenWritable(callback: () => void): void {
    if (!this.#blocked || this.#closed) callback();
    else this.#drainWaiters.push(callback);
  }

  /** A frame whose payload is small or absent; sent with the current tick's batch. */
  frame(type: number, flags: number, streamId: number, payload?: Buffer): void {
    if (this.#closed) return;
    if (payload !== undefined && payload.length > SMALL_PAYLOAD_BYTES) {
      this.frameWithChunks(type, flags, streamId, [payload], payload.length);
      return;
    }
    this.#pending.push({ type, flags, streamId, payload });
    this.#pendingBytes += FRAME_HEADER_BYTES + (payload?.length ?? 0);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flush);
    }
  }

  /**
   * A frame whose payload is `chunks` (total `length` bytes), written without copying.
   * Returns false when the transport asked us to wait for 'drain' (see whenWritable).
   */
  frameWithChunks(type: number, flags: number, streamId: number, chunks: readonly Buffer[], length: number): boolean {
    if (this.#closed) return false;
    this.#flush();
    const sink = this.#sink;
    sink.cork();
    let ok = sink.write(encodeFrameHeader(PROTOCOL_VERSION, type, flags, streamId, length));
    for (const chunk of chunks) ok = sink.write(chunk);
    sink.uncork();
    this.bytesWritten += FRAME_HEADER_BYTES + length;
    if (!ok) this.#blocked = true;
    return ok;
  }

  /** DATA frame; see frameWithChunks. */
  data(streamId: number, flags: number, chunks: readonly Buffer[], length: number): boolean {
    return this.frameWithChunks(FrameType.DATA, flags, streamId, chunks, length);
  }

  /** Write what is batched now (before ending the transport, or to keep order with big frames). */
  flush(): void {
    this.#flush();
  }

  /** Write what is batched and end the transport's writing side; later frames are dropped. */
  end(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    this.#sink.off('drain', this.#onDrain);
    this.#onDrain();
    this.#sink.end();
  }

  /** Stop writing: drop what is batched, release drain waiters. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#sink.off('drain', this.#onDrain);
    this.#onDrain();
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const frames = this.#pending;
    if (frames.length === 0 || this.#closed) return;
    const batch = Buffer.allocUnsafe(this.#pendingBytes);
    let at = 0;
    for (const frame of frames) {
      const length = frame.payload?.length ?? 0;
      writeFrameHeader(batch, at, PROTOCOL_VERSION, frame.type, frame.flags, frame.streamId, length);
      at += FRAME_HEADER_BYTES;
      if (frame.payload !== undefined) {
        frame.payload.copy(batch, at);
        at += length;
      }
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    this.bytesWritten += batch.length;
    if (!this.#sink.write(batch)) this.#blocked = true;
  };

  readonly #onDrain = (): void => {
    this.#blocked = false;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const waiter of waiters) waiter();
  };
}
