/**
 * The Readable a handler or caller gets for an incoming byte stream. DATA payload pieces are
 * pushed as they arrive (views into the network buffers, no copy). Credit goes back to the
 * sender only for bytes the consumer has taken out of this stream's buffer, so a paused
 * consumer holds at most one stream window of data.
 */
import { Readable } from 'node:stream';

export interface ReceiverHooks {
  /** `bytes` left this stream's buffer (consumed): return that much credit. */
  consumed(bytes: number): void;
  /** The consumer destroyed the stream before its end: tell the sender to stop. */
  abandoned(error: Error | null): void;
}

/** Largest buffer the stream keeps before _read stops being asked for; credit covers the rest. */
const READ_HIGH_WATER_MARK = 1024 * 1024;

export class IncomingByteStream extends Readable {
  readonly #hooks: ReceiverHooks;
  #pushed = 0;
  #reported = 0;
  #finished = false;

  constructor(hooks: ReceiverHooks, highWaterMark = READ_HIGH_WATER_MARK) {
    super({ highWaterMark });
    this.#hooks = hooks;
  }

  /** Bytes received so far (delivered into this stream). */
  get bytesReceived(): number {
    return this.#pushed;
  }

  /** A piece of DATA payload. */
  deliver(chunk: Buffer): void {
    if (this.#finished || this.destroyed) {
      // Nobody will read it: the credit goes straight back.
      this.#hooks.consumed(chunk.length);
      return;
    }
    this.#pushed += chunk.length;
    this.push(chunk);
    this.#report();
  }

  /** The sender ended the stream cleanly. */
  finish(): void {
    if (this.#finished || this.destroyed) return;
    this.#finished = true;
    // _read is not called once the end is queued: account for the tail when it is read.
    this.once('end', () => this.#report());
    this.push(null);
  }

  /**
   * The stream failed (source error, cancellation, connection lost). An error nobody listens
   * for is not thrown: the call's promise or the handler's signal already tells the story, and
   * a connection dropping must not crash a process whose handler had not started reading yet.
   */
  fail(error: Error): void {
    if (this.destroyed) return;
    this.#finished = true;
    if (this.listenerCount('error') === 0) this.on('error', () => {});
    this.destroy(error);
  }

  override _read(): void {
    // Data is pushed as it arrives; credit is reported from read(), below.
  }

  // Every way of consuming (flowing mode, pipe, async iteration, read()) goes through read().
  // Reporting after it returns sees the buffer without what was just taken; _read would not
  // (Readable calls it before removing the chunk), and a consumer that empties the whole
  // buffer in one read would then never return the credit.
  override read(size?: number): unknown {
    const chunk: unknown = super.read(size);
    this.#report();
    return chunk;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Whatever is still buffered is dropped: count it as consumed so its credit comes back.
    const dropped = this.#pushed - this.#reported;
    this.#reported = this.#pushed;
    if (dropped > 0) this.#hooks.consumed(dropped);
    if (!this.#finished) {
      this.#finished = true;
      this.#hooks.abandoned(error);
    }
    callback(error);
  }

  #report(): void {
    const consumed = this.#pushed - this.readableLength;
    const delta = consumed - this.#reported;
    if (delta > 0) {
      this.#reported = consumed;
      this.#hooks.consumed(delta);
    }
  }
}
