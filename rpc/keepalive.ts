/**
 * Keepalive of a connection: PING after `keepaliveIntervalMs` of silence, give up after
 * `keepaliveTimeoutMs` with nothing received at all (any frame counts, so a busy connection
 * never pings). Also answers explicit ping() requests with the round-trip time.
 */
import { encodePing } from './wire.js';

export interface KeepaliveHooks {
  /** Send a PING frame carrying this payload. */
  sendPing(payload: Buffer): void;
  /** Nothing arrived for `silentMs`: the peer is gone. */
  silent(silentMs: number): void;
}

export class Keepalive {
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #hooks: KeepaliveHooks;
  readonly #pings = new Map<bigint, { sentAt: number; resolve: (rttMs: number) => void; reject: (error: Error) => void }>();
  #timer: NodeJS.Timeout | undefined;
  #receivedSinceTick = false;
  #lastReceivedAt = Date.now();
  #pingOutstanding = false;
  #nextToken = 1n;

  constructor(intervalMs: number, timeoutMs: number, hooks: KeepaliveHooks) {
    this.#intervalMs = intervalMs;
    this.#timeoutMs = timeoutMs;
    this.#hooks = hooks;
  }

  start(): void {
    // Ticking at half the shorter period keeps the error of both checks under half a period.
    const tick = Math.max(5, Math.min(this.#intervalMs, this.#timeoutMs) / 2);
    this.#lastReceivedAt = Date.now();
    this.#timer = setInterval(this.#onTick, tick);
    // The transport keeps the process alive while the connection is open; this timer must not.
    this.#timer.unref();
  }

  /** Something arrived from the peer (called per received chunk: kept to a flag). */
  received(): void {
    this.#receivedSinceTick = true;
  }

  /** Round-trip time in milliseconds. */
  ping(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const token = this.#sendPing();
      this.#pings.set(token, { sentAt: performance.now(), resolve, reject });
    });
  }

  /** The PONG carrying `token` arrived. */
  pong(token: bigint): void {
    const ping = this.#pings.get(token);
    if (ping === undefined) return;
    this.#pings.delete(token);
    ping.resolve(performance.now() - ping.sentAt);
  }

  /** Stop the timer; pending ping() calls fail with `error`. */
  stop(error: Error): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const ping of this.#pings.values()) ping.reject(error);
    this.#pings.clear();
  }

  #sendPing(): bigint {
    const token = this.#nextToken;
    this.#nextToken += 1n;
    this.#hooks.sendPing(encodePing(token));
    return token;
  }

  readonly #onTick = (): void => {
    const now = Date.now();
    if (this.#receivedSinceTick) {
      this.#receivedSinceTick = false;
      this.#lastReceivedAt = now;
      this.#pingOutstanding = false;
    }
    const silentFor = now - this.#lastReceivedAt;
    if (silentFor >= this.#timeoutMs) {
      this.stop(new Error('keepalive timeout'));
      this.#hooks.silent(silentFor);
    } else if (silentFor >= this.#intervalMs && !this.#pingOutstanding) {
      this.#pingOutstanding = true;
      this.#sendPing();
    }
  };
}
