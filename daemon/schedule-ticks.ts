/** A job's schedule as the scheduler's ticks (scheduler.ts). */
import { nextRun } from '../config/schedule.js';
import type { JobConfig, Schedule } from '../config/types.js';
import { intervalTicks, type NextTick } from './scheduler.js';

/** undefined: manual (only wakeup runs it). Interval ticks are anchored at `anchor` (the schedule's start). */
export function ticksOf(schedule: Schedule, anchor: number): NextTick | undefined {
  switch (schedule.kind) {
    case 'interval':
      return intervalTicks(schedule.everyMs, anchor);
    case 'cron':
      return (after) => nextRun(schedule, new Date(after))?.getTime();
    case 'manual':
      return undefined;
  }
}

/**
 * When a job runs: push and pull by their `schedule`; a snap job by its snapshotting
 * (`periodic` every interval, `cron`); sink and source never (they serve).
 */
export function scheduleOf(job: JobConfig): Schedule | undefined {
  switch (job.type) {
    case 'push':
    case 'pull':
      return job.schedule;
    case 'snap':
      return job.snapshotting.type === 'periodic'
        ? { kind: 'interval', everyMs: job.snapshotting.intervalMs }
        : job.snapshotting.type === 'cron'
          ? { kind: 'cron', expression: job.snapshotting.cron, ...(job.snapshotting.timeZone !== undefined ? { timeZone: job.snapshotting.timeZone } : {}) }
          : { kind: 'manual' };
    case 'sink':
    case 'source':
      return undefined;
  }
}
