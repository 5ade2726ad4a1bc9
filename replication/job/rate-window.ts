/**
 * Bytes per second over the last few seconds: what a transfer does now rather than its average
 * since it began, so a stall shows as a falling rate.
 */
export class RateWindow {
  /** Running totals, oldest first; one sample older than the window stays, to measure from. */
  readonly #samples: Array<{ at: number; bytes: number }> = [];
  readonly #windowMs: number;

  constructor(windowMs = 5000) {
    this.#windowMs = windowMs;
  }

  /** The total so far (`bytes`) at time `at` (ms). */
  record(at: number, bytes: number): void {
    this.#samples.push({ at, bytes });
    while ((this.#samples[1]?.at ?? at) <= at - this.#windowMs) this.#samples.shift();
  }

  /** Bytes per second from the window's start (or the first sample) to `now`. */
  rate(now: number): number {
    const from = this.#samples.findLast((sample) => sample.at <= now - this.#windowMs) ?? this.#samples[0];
    const last = this.#samples.at(-1);
    if (from === undefined || last === undefined || now <= from.at) return 0;
    return ((last.bytes - from.bytes) * 1000) / (now - from.at);
  }
}
