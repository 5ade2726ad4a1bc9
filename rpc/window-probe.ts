/**
 * Measures how many bytes one stream receives during one PING round trip (a bandwidth-delay
 * probe). The PONG comes back behind the DATA the sender had already written, so a sender
 * held back only by credit delivers most of a window in that time; a sender held back by its
 * source, or a slow network, delivers much less. One probe at a time per connection.
 */
import { CREDIT_BATCHES_PER_WINDOW } from './receive-window.js';
import type { RpcStream } from './stream.js';

/** Probe tokens have the top bit set; keepalive tokens count up from 1 and never reach it. */
const PROBE_TOKEN_BIT = 1n << 63n;
/**
 * At most one probe per this long: a stream held back by its source (never growing) would
 * otherwise draw a PING for nearly every DATA frame on a fast link.
 */
export const PROBE_INTERVAL_MS = 25;
/**
 * A round trip that brought the window less two credit batches (receive-window.ts) means credit
 * is the limit: one batch of consumed credit may be waiting to fill up and never reached the
 * sender, the other leaves room for timing. With batches of a quarter that is half the window.
 * The bar must follow the batch: with a quarter batch and the eighth batch's bar (three
 * quarters), a stream over loopback stayed at its starting window for hundreds of MiB; with
 * half it grows within tens of MiB (figures in docs/benchmarks.md).
 */
const CREDIT_BOUND_BATCHES = CREDIT_BATCHES_PER_WINDOW - 2;

export class WindowProbe {
  #nextToken = PROBE_TOKEN_BIT;
  #token: bigint | undefined;
  #stream: RpcStream | undefined;
  #receivedAtStart = 0;
  #startedAt = Number.NEGATIVE_INFINITY;

  static isProbeToken(token: bigint): boolean {
    return (token & PROBE_TOKEN_BIT) !== 0n;
  }

  get running(): boolean {
    return this.#token !== undefined;
  }

  /** No probe is out and the last one started at least PROBE_INTERVAL_MS before `nowMs`. */
  canStart(nowMs: number): boolean {
    return this.#token === undefined && nowMs - this.#startedAt >= PROBE_INTERVAL_MS;
  }

  /** Start measuring `stream` at `nowMs`; returns the token to send in a PING. */
  start(stream: RpcStream, nowMs: number): bigint {
    this.#startedAt = nowMs;
    const token = this.#nextToken;
    this.#nextToken = token + 1n > 0xffff_ffff_ffff_ffffn ? PROBE_TOKEN_BIT : token + 1n;
    this.#token = token;
    this.#stream = stream;
    this.#receivedAtStart = stream.receive.receivedTotal;
    return token;
  }

  /**
   * The PONG for `token` arrived: the measured stream if its window held it back (a round trip
   * brought most of a window), else undefined. Unknown tokens are ignored.
   */
  finish(token: bigint): RpcStream | undefined {
    if (token !== this.#token) return undefined;
    const stream = this.#stream as RpcStream;
    this.#token = undefined;
    this.#stream = undefined;
    if (stream.closed) return undefined;
    const bytes = stream.receive.receivedTotal - this.#receivedAtStart;
    return bytes * CREDIT_BATCHES_PER_WINDOW >= stream.receive.size * CREDIT_BOUND_BATCHES ? stream : undefined;
  }
}
