/** A SchedulerClock whose timers fire only when the test moves it (daemon/scheduler.ts). */
import type { SchedulerClock } from '../../daemon/scheduler.js';

export class FakeClock implements SchedulerClock {
  #now: number;
  #timers = new Map<number, { at: number; fire: () => void }>();
  #ids = 0;

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fire: () => void, ms: number): unknown {
    const id = ++this.#ids;
    this.#timers.set(id, { at: this.#now + ms, fire });
    return id;
  }

  clearTimer(timer: unknown): void {
    this.#timers.delete(timer as number);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves the clock forward, firing each timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fire();
    }
    this.#now = end;
  }
}
