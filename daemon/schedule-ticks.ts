/** A job's schedule as the scheduler's ticks (scheduler.ts). */
import { nextRun } from '../config/schedule.js';
import type { JobConfig, Schedule, SnapshottingConfig } from '../config/types.js';
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
 * (`periodic` every interval, `cron`), and so does a source with `pruning.keep`; a sink never (it serves).
 */
export function scheduleOf(job: JobConfig): Schedule | undefined {
  switch (job.type) {
    case 'push':
    case 'pull':
      return job.schedule;
    case 'snap':
      return snapshottingSchedule(job.snapshotting);
    case 'source':
      // zferry (zrepl#102): a source with its own `keep` snapshots and prunes on its snapshotting's schedule.
      return job.pruning?.keep !== undefined && job.snapshotting.type !== 'manual' ? snapshottingSchedule(job.snapshotting) : undefined;
    case 'sink':
      return undefined;
  }
}

function snapshottingSchedule(snapshotting: SnapshottingConfig): Schedule {
  return snapshotting.type === 'periodic'
    ? { kind: 'interval', everyMs: snapshotting.intervalMs }
    : snapshotting.type === 'cron'
      ? { kind: 'cron', expression: snapshotting.cron, ...(snapshotting.timeZone !== undefined ? { timeZone: snapshotting.timeZone } : {}) }
      : { kind: 'manual' };
}
