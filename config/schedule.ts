/**
 * Schedules in words and their next run: `interval` adds up, `cron` asks croner (seconds
 * field optional, day-of-week, time zones), `manual` never runs by itself. Pure.
 */
import { Cron } from 'croner';
import { formatDuration } from './duration.js';
import type { Schedule } from './types.js';

/** "every 10m", "cron 0 3 * * * (Europe/Berlin)", "manual". */
export function describeSchedule(schedule: Schedule): string {
  switch (schedule.kind) {
    case 'interval':
      return `every ${formatDuration(schedule.everyMs)}`;
    case 'cron':
      return `cron ${schedule.expression}${schedule.timeZone === undefined ? '' : ` (${schedule.timeZone})`}`;
    case 'manual':
      return 'manual';
  }
}

/**
 * When the job runs next after `after` (strictly later), or undefined for `manual` (and for a
 * cron expression that never fires again).
 */
export function nextRun(schedule: Schedule, after: Date): Date | undefined {
  switch (schedule.kind) {
    case 'interval':
      return new Date(after.getTime() + schedule.everyMs);
    case 'cron':
      return cronOf(schedule.expression, schedule.timeZone).nextRun(after) ?? undefined;
    case 'manual':
      return undefined;
  }
}

function cronOf(expression: string, timeZone: string | undefined): Cron {
  return new Cron(expression, { paused: true, ...(timeZone === undefined ? {} : { timezone: timeZone }) });
}

/** Why croner refuses `expression`, or undefined when it takes it. */
export function cronProblem(expression: string): string | undefined {
  try {
    cronOf(expression, undefined);
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern:\s*/, '') : String(error);
    return `invalid cron expression ${JSON.stringify(expression)}: ${reason}`;
  }
}

/** Why `timeZone` is not an IANA time zone this Node knows, or undefined. */
export function timeZoneProblem(timeZone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return undefined;
  } catch {
    return `unknown time zone ${JSON.stringify(timeZone)} (an IANA name like Europe/Berlin, America/New_York or UTC)`;
  }
}
