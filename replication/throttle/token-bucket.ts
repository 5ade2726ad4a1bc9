/**
 * A token bucket over bytes: tokens refill at `bytesPerSecond` up to `capacityBytes`, and each
 * `take(bytes)` resolves once its bytes are paid for. Takers are served strictly in the order
 * they asked (FIFO), so concurrent streams sharing one bucket each get their turn. The head
 * taker is paid every token as it arrives (the capacity only caps what piles up while nobody
 * waits), so a request larger than the capacity still passes, after `(bytes - tokens) / rate`.
 * Waiting is one timer for the head, for the whole of what it lacks: never a polling loop.
 */
import { ZferryError } from '../../platform/errors.js';

/** Time as the bucket sees it: injected by tests, the real clock otherwise. */
export interface BucketClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const realClock: BucketClock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface TokenBucketOptions {
  bytesPerSecond: number;
  capacityBytes: number;
  clock?: BucketClock;
}

/** A take cut short by its signal: none of its bytes may flow. */
export class TakeAbortedError extends ZferryError {
  constructor(cause: unknown) {
    super('INTERRUPTED', cause instanceof Error ? cause.message : 'bandwidth wait aborted', { cause });
  }
}

export class InvalidBandwidthLimitError extends ZferryError {
  constructor(message: string) {
    super('INVALID_BANDWIDTH_LIMIT', message);
  }
}

interface Waiter {
  /** Bytes still to pay for. */
  remaining: number;
  /** Bytes already paid for (given back if it aborts). */
  paid: number;
  resolve: () => void;
  reject: (error: Error) => void;
  detach: () => void;
}

export class TokenBucket {
  readonly bytesPerSecond: number;
  readonly capacityBytes: number;
  readonly #clock: BucketClock;
  #tokens: number;
  #refilledAt: number;
  readonly #queue: Waiter[] = [];
  #cancelTimer: (() => void) | undefined;

  constructor(options: TokenBucketOptions) {
    const { bytesPerSecond, capacityBytes } = options;
    if (!(Number.isFinite(bytesPerSecond) && bytesPerSecond > 0))
      throw new InvalidBandwidthLimitError(`bytes per second must be a positive number, not ${bytesPerSecond}`);
    if (!(Number.isFinite(capacityBytes) && capacityBytes >= 1))
      throw new InvalidBandwidthLimitError(`bucket capacity must be at least 1 byte, not ${capacityBytes}`);
    this.bytesPerSecond = bytesPerSecond;
    this.capacityBytes = capacityBytes;
    this.#clock = options.clock ?? realClock;
    // Starts full: the first `capacityBytes` flow at once, as a burst allows.
    this.#tokens = capacityBytes;
    this.#refilledAt = this.#clock.now();
  }

  /** Takers waiting now (the head included). */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Resolves once `bytes` are paid for; rejects (TakeAbortedError) if `signal` fires first, and then takes nothing. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new TakeAbortedError(signal.reason));
    if (bytes <= 0) return Promise.resolve();
    this.#refill();
    if (this.#queue.length === 0 && this.#tokens >= bytes) {
      this.#tokens -= bytes;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { remaining: bytes, paid: 0, resolve, reject, detach: () => undefined };
      if (signal !== undefined) {
        const onAbort = (): void => this.#abandon(waiter, new TakeAbortedError(signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.#queue.push(waiter);
      this.#serve();
    });
  }

  /** Tokens since the last refill: all of them to a waiting head, up to the capacity when nobody waits. */
  #refill(): void {
    const now = this.#clock.now();
    const elapsed = now - this.#refilledAt;
    if (elapsed > 0) {
      this.#tokens += (elapsed * this.bytesPerSecond) / 1000;
      this.#refilledAt = now;
    }
    if (this.#queue.length === 0) this.#tokens = Math.min(this.capacityBytes, this.#tokens);
  }

  /** Pays the head (and the ones after it) from the bucket; arms one timer for the rest. */
  #serve(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#refill();
    for (let head = this.#queue[0]; head !== undefined; head = this.#queue[0]) {
      const pay = Math.min(head.remaining, this.#tokens);
      head.remaining -= pay;
      head.paid += pay;
      this.#tokens -= pay;
      // Fractions of a byte left over from refill arithmetic are not worth a timer.
      if (head.remaining >= 1e-6) break;
      this.#queue.shift();
      head.detach();
      head.resolve();
    }
    const head = this.#queue[0];
    if (head === undefined) {
      // What the last one left beyond the capacity (a timer fires late) does not pile up.
      this.#tokens = Math.min(this.capacityBytes, this.#tokens);
      return;
    }
    const waitMs = Math.max(1, Math.ceil((head.remaining * 1000) / this.bytesPerSecond));
    this.#cancelTimer = this.#clock.setTimer(() => {
      this.#cancelTimer = undefined;
      this.#serve();
    }, waitMs);
  }

  /** A waiter that gave up: out of the queue, what it paid back in the bucket (its bytes never flow). */
  #abandon(waiter: Waiter, error: Error): void {
    const index = this.#queue.indexOf(waiter);
    if (index < 0) return;
    this.#queue.splice(index, 1);
    waiter.detach();
    this.#refill();
    this.#tokens = Math.min(this.capacityBytes, this.#tokens + waiter.paid);
    waiter.reject(error);
    this.#serve();
  }
}
