/**
 * One job of a running daemon: its config, its schedule, the invocation going now, the last
 * one's outcome and what is remembered of each filesystem; and its status view.
 */
import type { Logger } from 'pino';
import type { JobConfig } from '../config/types.js';
import { FilesystemMemory } from './filesystem-memory.js';
import type { InvocationResult, Trigger } from './invocation.js';
import { describeSchedule } from '../config/schedule.js';
import { scheduleOf, ticksOf } from './schedule-ticks.js';
import { JobScheduler, intervalTicks, type InvocationStopped, type SchedulerClock } from './scheduler.js';
import { firstSnapshotAt, snapshotRhythmOf } from './snapshot-rhythm.js';
import type { FilesystemStatus } from '../replication/job/types.js';
import type { FilesystemStatusView, InvocationView, JobStatusView } from './status-types.js';
import { formatDuration } from '../config/duration.js';
import type { JobFacts } from './metrics/daemon-metrics.js';
import { JobLateness } from './rpo/job-lateness.js';
import { systemClock } from './scheduler.js';

/** What the daemon starts for a tick: a push or pull invocation (invocation.ts), a snapshot run. */
export interface JobInvocation {
  readonly trigger: Trigger;
  readonly startedAt: number;
  readonly attempts: number;
  readonly result: Promise<InvocationResult>;
  abort(reason: Error): void;
  status(): { filesystems: FilesystemStatus[]; bytes: number };
}

/** `knownFilesystems`: how many filesystems the job's earlier invocations saw (0 at first). */
export type InvocationFactory = (job: JobConfig, trigger: Trigger, logger: Logger, knownFilesystems: number) => JobInvocation;

export interface DaemonJobOptions {
  config: JobConfig;
  /** Carries `job`. */
  logger: Logger;
  start: InvocationFactory;
  clock?: SchedulerClock;
  /** The job this one replaces (a reload changed it): its memory and counters carry over. */
  previous?: DaemonJob;
  /**
   * The creation (ms) of the newest snapshot carrying the job's prefix: periodic snapshotting
   * starts in step with it (snapshot-rhythm.ts). Absent: the schedule starts at once.
   */
  newestSnapshotAt?: () => Promise<number | undefined>;
}

export class DaemonJob {
  readonly config: JobConfig;
  readonly logger: Logger;
  readonly #memory: FilesystemMemory;
  readonly #scheduler: JobScheduler | undefined;
  readonly #clock: () => number;
  readonly #newestSnapshotAt: (() => Promise<number | undefined>) | undefined;
  /** Push and pull jobs with an `rpo`: which filesystems are late (rpo/job-lateness.ts). */
  readonly #lateness: JobLateness | undefined;
  #current: JobInvocation | undefined;
  #last: InvocationView | undefined;
  #skippedTicks: number;
  #lastSkippedAt: number | undefined;

  constructor(options: DaemonJobOptions) {
    const { config, logger } = options;
    this.config = config;
    this.logger = logger;
    this.#clock = options.clock?.now.bind(options.clock) ?? Date.now;
    this.#newestSnapshotAt = options.newestSnapshotAt;
    const previous = options.previous;
    this.#memory = previous !== undefined ? previous.#memory : new FilesystemMemory();
    this.#last = previous !== undefined ? previous.#last : undefined;
    this.#skippedTicks = previous !== undefined ? previous.#skippedTicks : 0;
    this.#lastSkippedAt = previous !== undefined ? previous.#lastSkippedAt : undefined;
    if ((config.type === 'push' || config.type === 'pull') && config.rpo !== undefined) {
      this.#lateness = new JobLateness({
        job: config,
        rpo: config.rpo,
        logger,
        clock: options.clock ?? systemClock,
        newest: () => this.#memory.newest(),
        ...(previous !== undefined && previous.#lateness !== undefined ? { previous: previous.#lateness } : {}),
      });
    }
    const schedule = scheduleOf(config);
    if (schedule !== undefined) {
      const nextTick = ticksOf(schedule, this.#clock());
      this.#scheduler = new JobScheduler({
        ...(nextTick !== undefined ? { nextTick } : {}),
        runAtStart: schedule.kind === 'interval',
        launch: (trigger) => this.#launch(trigger, options.start),
        onSkipped: (trigger, at) => {
          this.#skippedTicks += 1;
          this.#lastSkippedAt = at;
          const running = this.#current;
          this.logger.warn(
            { trigger, skippedTicks: this.#skippedTicks, runningSince: running ? new Date(running.startedAt).toISOString() : undefined },
            trigger === 'wakeup' ? 'wakeup ignored: the job is still running' : 'tick skipped: the previous invocation is still running',
          );
        },
        ...(options.clock !== undefined ? { clock: options.clock } : {}),
      });
    }
  }

  get name(): string {
    return this.config.name;
  }

  get running(): boolean {
    return this.#current !== undefined;
  }

  /** Whether it runs (push, pull, snap) rather than serves (sink, source). */
  get triggerable(): boolean {
    return this.#scheduler !== undefined;
  }

  begin(): void {
    this.#lateness?.begin();
    const scheduler = this.#scheduler;
    const interval = snapshotRhythmOf(this.config);
    if (scheduler === undefined || interval === undefined || this.#newestSnapshotAt === undefined) {
      scheduler?.begin();
      return;
    }
    void this.#newestSnapshotAt().then((newest) => {
      const now = this.#clock();
      const first = firstSnapshotAt(newest, interval, now);
      const fields = { newestSnapshotAt: newest === undefined ? undefined : new Date(newest).toISOString(), nextSnapshotAt: new Date(first).toISOString() };
      this.logger.info(fields, first > now ? 'snapshotting in step with the newest snapshot' : 'snapshotting now: the last one is an interval old or more');
      scheduler.begin({ nextTick: intervalTicks(interval, first), runAtStart: first <= now });
    });
  }

  /** Runs now; false when skipped (an invocation is running). */
  wakeup(): boolean {
    return this.#scheduler?.wakeup() ?? false;
  }

  /** Stops the running invocation; false when none runs. */
  reset(): boolean {
    return this.#scheduler?.reset() ?? false;
  }

  /** No more ticks; with `abort`, the running invocation is stopped too. Resolves once none runs. */
  stop(abort?: InvocationStopped): Promise<void> {
    this.#lateness?.stop();
    return this.#scheduler?.stop(abort !== undefined ? { abort } : {}) ?? Promise.resolve();
  }

  #launch(trigger: Trigger, start: InvocationFactory): { done: Promise<unknown>; abort(reason: Error): void } {
    const invocation = start(this.config, trigger, this.logger, this.#memory.size);
    this.#current = invocation;
    this.logger.info({ trigger }, 'invocation started');
    const done = invocation.result.then(
      (result) => this.#ended(invocation, result),
      (error: unknown) => {
        // An invocation reports its failures in its result; this is a bug, not a job failure.
        this.logger.error({ err: error }, 'invocation crashed');
        this.#current = undefined;
      },
    );
    return { done, abort: (reason) => invocation.abort(reason) };
  }

  #ended(invocation: JobInvocation, result: InvocationResult): void {
    this.#memory.record(result.filesystems, invocation.status().filesystems, result.endedAt);
    this.#lateness?.evaluate();
    this.#last = viewOfResult(invocation.trigger, result);
    if (this.#current === invocation) this.#current = undefined;
    const fields = { outcome: result.outcome, attempts: result.attempts, bytes: result.bytes, durationMs: result.endedAt - result.startedAt };
    if (result.outcome === 'ok') this.logger.info(fields, 'invocation ended');
    else if (result.outcome === 'interrupted') this.logger.warn({ ...fields, filesystems: interruptedOf(result) }, 'invocation interrupted');
    else this.logger.error({ ...fields, code: result.error?.code, reason: result.error?.message }, 'invocation failed');
  }

  status(now: number): JobStatusView {
    const schedule = scheduleOf(this.config);
    const current = this.#current;
    const live = current?.status();
    const nextRunAt = this.#scheduler?.nextRunAt;
    const lateness = this.#lateness;
    const state = this.#scheduler === undefined ? 'serving' : this.#scheduler.stopping ? 'stopping' : current !== undefined ? 'running' : 'idle';
    return {
      name: this.config.name,
      type: this.config.type,
      state,
      ...(schedule !== undefined ? { schedule: describeSchedule(schedule) } : {}),
      ...(nextRunAt !== undefined && state !== 'stopping' ? { nextRunAt: new Date(nextRunAt).toISOString() } : {}),
      skippedTicks: this.#skippedTicks,
      ...(this.#lastSkippedAt !== undefined ? { lastSkippedAt: new Date(this.#lastSkippedAt).toISOString() } : {}),
      ...(current !== undefined && live !== undefined
        ? { current: { trigger: current.trigger, startedAt: new Date(current.startedAt).toISOString(), attempts: current.attempts, bytes: live.bytes } }
        : {}),
      ...(this.#last !== undefined ? { last: this.#last } : {}),
      filesystems: this.#lateFlags(this.#memory.views(live?.filesystems ?? [], now)),
      ...(lateness !== undefined ? { rpo: formatDuration(lateness.maxAgeMs), late: lateness.tracker.lateCount } : {}),
    };
  }

  /** The on_late hooks started so far have run (tests). */
  rpoSettled(): Promise<void> {
    return this.#lateness?.settled() ?? Promise.resolve();
  }

  /** What the metrics read at a scrape. */
  facts(): JobFacts {
    const lateness = this.#lateness;
    return {
      job: this.name,
      ...(lateness !== undefined ? { rpoMs: lateness.maxAgeMs } : {}),
      filesystems: this.#memory.newest().map((fs) => ({
        source: fs.source,
        ...(fs.newestAt !== undefined ? { newestReplicatedAt: fs.newestAt } : {}),
        ...(lateness !== undefined ? { late: lateness.tracker.isLate(fs.source) } : {}),
      })),
    };
  }

  #lateFlags(views: FilesystemStatusView[]): FilesystemStatusView[] {
    const lateness = this.#lateness;
    if (lateness === undefined) return views;
    return views.map((view) => ({ ...view, late: lateness.tracker.isLate(view.source) }));
  }
}

function viewOfResult(trigger: Trigger, result: InvocationResult): InvocationView {
  return {
    trigger,
    startedAt: new Date(result.startedAt).toISOString(),
    endedAt: new Date(result.endedAt).toISOString(),
    outcome: result.outcome,
    attempts: result.attempts,
    bytes: result.bytes,
    ...(result.error !== undefined ? { error: { code: result.error.code, message: result.error.message } } : {}),
  };
}

/** The filesystems an interrupted invocation stopped (for the log). */
function interruptedOf(result: InvocationResult): string[] {
  return result.filesystems.filter((fs) => fs.outcome === 'interrupted').map((fs) => fs.source);
}
