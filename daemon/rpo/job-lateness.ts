/**
 * A push or pull job's `rpo` at work: its filesystems' lateness (lateness.ts) evaluated after
 * every invocation and on a timer (a job that stopped running, or whose source stopped taking
 * snapshots, goes late all the same), and its on_late hooks run once per transition, one
 * after the other, told ZFERRY_LATE_STATE=late or recovered.
 */
import type { Logger } from 'pino';
import type { HookConfig, PullJob, PushJob, RecoveryPointObjective } from '../../config/types.js';
import { runHooks } from '../hooks.js';
import type { SchedulerClock } from '../scheduler.js';
import { LatenessTracker, type FilesystemNewest, type LateTransition } from './lateness.js';

/** Checked this often (a quarter of the rpo), within these bounds. */
const MIN_CHECK_MS = 1000;
const MAX_CHECK_MS = 60_000;

export function checkEveryMs(rpo: RecoveryPointObjective): number {
  return Math.min(MAX_CHECK_MS, Math.max(MIN_CHECK_MS, Math.floor(rpo.maxAgeMs / 4)));
}

/**
 * The job's `on_late` hooks: `rpo.onLate`, where config/ already put the job's `hooks` whose
 * `when` names on_late (after the `on_late` key's own). Each runs at on_late, whatever else
 * its `when` says.
 */
export function onLateHooks(rpo: RecoveryPointObjective): HookConfig[] {
  return rpo.onLate.map((hook) => ({ ...hook, when: ['on_late'] }));
}

export interface JobLatenessOptions {
  job: PushJob | PullJob;
  rpo: RecoveryPointObjective;
  /** Carries `job`. */
  logger: Logger;
  clock: SchedulerClock;
  /** Each filesystem's newest replicated snapshot, as the job remembers it. */
  newest: () => readonly FilesystemNewest[];
  /** The former definition's (a reload): breaches carry over. */
  previous?: JobLateness;
}

export class JobLateness {
  readonly tracker: LatenessTracker;
  readonly #options: JobLatenessOptions;
  readonly #hooks: HookConfig[];
  #timer: unknown;
  #stopped = false;
  /** Hooks run one transition after the other: a recovery never overtakes its breach. */
  #running: Promise<void> = Promise.resolve();

  constructor(options: JobLatenessOptions) {
    this.#options = options;
    this.tracker = new LatenessTracker(options.rpo.maxAgeMs, options.previous?.tracker);
    this.#hooks = onLateHooks(options.rpo);
  }

  get maxAgeMs(): number {
    return this.tracker.maxAgeMs;
  }

  /** Starts the timer. */
  begin(): void {
    this.#schedule();
  }

  /** No more checks; hooks already started run to their end. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /** Resolves once the hooks started so far have run (tests, shutdown). */
  settled(): Promise<void> {
    return this.#running;
  }

  /** Evaluates now; runs the hooks of every transition. */
  evaluate(): void {
    const transitions = this.tracker.evaluate(this.#options.newest(), this.#options.clock.now());
    for (const transition of transitions) this.#report(transition);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#options.clock.setTimer(() => {
      this.evaluate();
      this.#schedule();
    }, checkEveryMs(this.#options.rpo));
    // The daemon's own keep-alive holds the process; this timer must not.
    (this.#timer as { unref?: () => void } | undefined)?.unref?.();
  }

  #report(transition: LateTransition): void {
    const { job, logger } = this.#options;
    const rpoSeconds = Math.round(this.maxAgeMs / 1000);
    const newestAgeSeconds = transition.newestAgeMs === undefined ? undefined : Math.round(transition.newestAgeMs / 1000);
    const fields = { filesystem: transition.filesystem, rpoSeconds, newestAgeSeconds };
    if (transition.state === 'late') logger.warn(fields, 'filesystem is late: its newest replicated snapshot is older than the rpo');
    else logger.info(fields, 'filesystem recovered: its newest replicated snapshot is within the rpo again');
    if (this.#hooks.length === 0) return;
    const point = {
      type: 'on_late' as const,
      job: job.name,
      filesystem: transition.filesystem,
      late: { state: transition.state, rpoSeconds, ...(newestAgeSeconds !== undefined ? { newestAgeSeconds } : {}) },
    };
    this.#running = this.#running.then(async () => {
      await runHooks(this.#hooks, point, { logger });
    });
  }
}
