/**
 * The DATA credit one stream's receiver hands out, and how much of it it gives back when.
 *
 * A stream starts with the announced window, which is small on purpose: a call sent while a
 * bulk stream fills the connection waits behind up to a window of DATA. But a small window
 * also caps one stream at about window / credit round trip. So the multiplexer measures, with
 * a PING, how many bytes arrive in one round trip while a stream is alone on the connection
 * (as gRPC's BDP probe does): nearly a whole window means credit, not the sender or the
 * network, is the limit, and grow() doubles the window up to `max`, provided our consumer
 * keeps up. When other calls use the connection the window shrinks back to the base:
 * consumed bytes are kept back instead of returned until the sender's credit fits the base
 * again. Neither changes the wire: the peer only ever sees WINDOW increments. The connection
 * window is one of these too, with base and max equal.
 */

/**
 * Credit goes back once this fraction of the current window has been consumed (a quarter, as
 * grpc-go does). Each WINDOW frame costs both ends a wakeup and a syscall: returning every
 * eighth instead made a loopback upload measurably slower (docs/benchmarks.md), while the
 * window still starts small.
 */
export const CREDIT_BATCHES_PER_WINDOW = 4;
/** Grow only while at most this fraction of the window waits, unread, in our buffers (a frame may be half in). */
const BUFFERED_FRACTION_FOR_GROWTH = 2;

export class ReceiveWindow {
  readonly base: number;
  readonly max: number;
  /** Current window: the peer's credit plus bytes received and not yet given back. */
  size: number;
  /** Credit the peer may still use. */
  remaining: number;
  /** Bytes consumed and not yet given back. */
  #unacked = 0;
  /** Every DATA byte received on the stream. */
  receivedTotal = 0;

  constructor(base: number, max: number) {
    this.base = base;
    this.max = Math.max(base, max);
    this.size = base;
    this.remaining = base;
  }

  /** Bytes received and not yet consumed by the application. */
  get buffered(): number {
    return this.size - this.remaining - this.#unacked;
  }

  /** A DATA frame of `length` bytes arrived (the caller checked it against `remaining`). */
  received(length: number): void {
    this.remaining -= length;
    this.receivedTotal += length;
  }

  get canGrow(): boolean {
    return this.size < this.max;
  }

  /**
   * Credit, not our consumer, held the stream back: double the window (up to max) unless
   * much of it is still waiting to be read. Returns the credit to send back now.
   */
  grow(): number {
    if (!this.canGrow || this.buffered * BUFFERED_FRACTION_FOR_GROWTH > this.size) return 0;
    const growth = Math.min(this.size, this.max - this.size);
    this.size += growth;
    this.#unacked += growth;
    return this.#takeCredit();
  }

  /**
   * The application consumed `bytes`. Returns the credit to send back now (0: nothing yet).
   * `crowded`: other calls share the connection, so latency matters more than one stream's speed.
   */
  consumed(bytes: number, crowded: boolean): number {
    this.#unacked += bytes;
    if (crowded && this.size > this.base) {
      const keptBack = Math.min(this.size - this.base, this.#unacked);
      this.#unacked -= keptBack;
      this.size -= keptBack;
    }
    return this.#takeCredit();
  }

  #takeCredit(): number {
    if (this.#unacked * CREDIT_BATCHES_PER_WINDOW < this.size) return 0;
    const increment = this.#unacked;
    this.#unacked = 0;
    this.remaining += increment;
    return increment;
  }
}
