/**
 * When a job runs: one timer per job (an idle daemon sleeps; nothing polls), armed for the
 * job's next tick. One invocation of a job at a time: a tick (or a wakeup) while one runs is
 * skipped, counted and reported, never queued or doubled. Jobs run independently of each
 * other. reset() stops the running invocation; stop() ends the schedule.
 */
import { ZferryError } from '../platform/errors.js';
import type { Trigger } from './invocation.js';

/** The time source and timers, replaceable for tests. */
export interface SchedulerClock {
  now(): number;
  setTimer(fire: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimer: (fire, ms) => setTimeout(fire, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** The first tick strictly after `after` (ms since the epoch); undefined: no more ticks (manual). */
export type NextTick = (after: number) => number | undefined;

/** A started invocation, as the scheduler needs it. */
export interface Running {
  /** Settles once the invocation has ended (however it ended). */
  readonly done: Promise<unknown>;
  abort(reason: Error): void;
}

export interface JobSchedulerOptions {
  /** The schedule (undefined: manual, only wakeup starts it). */
  nextTick?: NextTick;
  /** Start one invocation at once when the schedule begins (interval schedules do). */
  runAtStart?: boolean;
  launch(trigger: Trigger): Running;
  /** A tick or wakeup came while an invocation was running. */
  onSkipped?(trigger: Trigger, at: number): void;
  clock?: SchedulerClock;
}

/** setTimeout's limit (~24.8 days): a later tick is reached in several waits. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why an invocation was stopped. */
export class InvocationStopped extends ZferryError {
  constructor(readonly why: 'reset' | 'shutdown' | 'removed') {
    super(
      'INVOCATION_STOPPED',
      why === 'reset' ? 'reset by zferry signal' : why === 'shutdown' ? 'stopped: the daemon is shutting down' : 'stopped: the job was removed from the config',
    );
  }
}

export class JobScheduler {
  readonly #options: JobSchedulerOptions;
  readonly #clock: SchedulerClock;
  #timer: unknown;
  #nextRunAt: number | undefined;
  #current: Running | undefined;
  #stopping = false;
  #ended = false;
  #skippedTicks = 0;
  #lastSkippedAt: number | undefined;
  #nextTick: NextTick | undefined;

  constructor(options: JobSchedulerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#nextTick = options.nextTick;
  }

  get nextRunAt(): number | undefined {
    return this.#nextRunAt;
  }

  get skippedTicks(): number {
    return this.#skippedTicks;
  }

  get lastSkippedAt(): number | undefined {
    return this.#lastSkippedAt;
  }

  get running(): boolean {
    return this.#current !== undefined;
  }

  /** An invocation is being stopped (reset, or the schedule is ending). */
  get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * Arms the first tick (and runs at once where the schedule says so). `start` replaces the
   * schedule's ticks and whether to run at once, when they were only known later (periodic
   * snapshotting in step with the newest snapshot: snapshot-rhythm.ts).
   */
  begin(start?: { nextTick: NextTick; runAtStart: boolean }): void {
    if (this.#ended) return;
    if (start !== undefined) this.#nextTick = start.nextTick;
    if ((start?.runAtStart ?? this.#options.runAtStart) === true) this.#fire('start');
    this.#arm(this.#clock.now());
  }

  /** Runs now, as if the schedule fired; false when skipped (one is running) or ended. */
  wakeup(): boolean {
    if (this.#ended) return false;
    return this.#fire('wakeup');
  }

  /** Stops the running invocation (it ends as `interrupted`); false when none runs. */
  reset(): boolean {
    if (this.#current === undefined) return false;
    this.#stopping = true;
    this.#current.abort(new InvocationStopped('reset'));
    return true;
  }

  /**
   * No more ticks. `abort`: stop the running invocation too; otherwise let it finish.
   * Resolves once no invocation of this job runs.
   */
  async stop(options: { abort?: InvocationStopped } = {}): Promise<void> {
    this.#ended = true;
    this.#disarm();
    const current = this.#current;
    if (current === undefined) return;
    if (options.abort !== undefined) {
      this.#stopping = true;
      current.abort(options.abort);
    }
    await current.done.catch(() => undefined);
  }

  #fire(trigger: Trigger): boolean {
    if (this.#current !== undefined) {
      const at = this.#clock.now();
      this.#skippedTicks += 1;
      this.#lastSkippedAt = at;
      this.#options.onSkipped?.(trigger, at);
      return false;
    }
    const running = this.#options.launch(trigger);
    this.#current = running;
    void running.done
      .catch(() => undefined)
      .then(() => {
        if (this.#current === running) {
          this.#current = undefined;
          this.#stopping = false;
        }
      });
    return true;
  }

  /** The timer for the first tick after `after`. */
  #arm(after: number): void {
    this.#disarm();
    const next = this.#ended ? undefined : this.#nextTick?.(after);
    this.#nextRunAt = next;
    if (next === undefined) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next - this.#clock.now()));
    this.#timer = this.#clock.setTimer(() => this.#onTimer(next), wait);
  }

  #onTimer(tick: number): void {
    this.#timer = undefined;
    if (this.#ended) return;
    // A long wait goes in pieces; the clock may also have been set back meanwhile.
    if (this.#clock.now() < tick) {
      const wait = Math.min(MAX_TIMER_MS, tick - this.#clock.now());
      this.#timer = this.#clock.setTimer(() => this.#onTimer(tick), wait);
      return;
    }
    this.#fire('schedule');
    // Ticks the process slept through (suspended, stalled) are not made up: the next is after now.
    this.#arm(Math.max(tick, this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#nextRunAt = undefined;
  }
}

/**
 * Ticks every `everyMs` from `anchor` (fixed rate): a run longer than the interval makes the
 * ticks during it skipped, not later.
 */
export function intervalTicks(everyMs: number, anchor: number): NextTick {
  return (after) => anchor + (Math.floor((after - anchor) / everyMs) + 1) * everyMs;
}
