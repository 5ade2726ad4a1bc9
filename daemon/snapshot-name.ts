/**
 * The names of the snapshots the daemon takes: the job's prefix, then the time in the job's
 * `timestamp_format` (zrepl's names): `dense` (default) `20261203_134500_000`, `human`
 * `2026-12-03_13:45:00`, `iso-8601` `2026-12-03T13:45:00.000Z`, `unix-seconds` `1796305500`.
 * `dense` and `human` are written in `timestamp_location` (UTC unless the job says `Local` or
 * an IANA zone); `iso-8601` always in UTC, since its offset would need a `+` that zfs names
 * cannot hold, and `unix-seconds` has no zone.
 */
const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** `location`: undefined or `UTC`, `Local` (this process's zone), or an IANA zone. */
function wallClock(at: Date, location: string | undefined): WallClock {
  if (location === undefined || location === 'UTC') {
    return {
      year: at.getUTCFullYear(),
      month: at.getUTCMonth() + 1,
      day: at.getUTCDate(),
      hour: at.getUTCHours(),
      minute: at.getUTCMinutes(),
      second: at.getUTCSeconds(),
    };
  }
  const format = new Intl.DateTimeFormat('en-US', {
    ...(location === 'Local' ? {} : { timeZone: location }),
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const parts = Object.fromEntries(format.formatToParts(at).map((part) => [part.type, part.value]));
  const field = (name: string): number => Number(parts[name]);
  return { year: field('year'), month: field('month'), day: field('day'), hour: field('hour'), minute: field('minute'), second: field('second') };
}

export function snapshotTimestamp(at: Date, format: string, location?: string): string {
  switch (format) {
    case 'iso-8601':
      return at.toISOString();
    case 'unix-seconds':
      return String(Math.floor(at.getTime() / 1000));
  }
  const clock = wallClock(at, location);
  if (format === 'human') {
    return `${clock.year}-${pad(clock.month)}-${pad(clock.day)}_${pad(clock.hour)}:${pad(clock.minute)}:${pad(clock.second)}`;
  }
  return `${clock.year}${pad(clock.month)}${pad(clock.day)}_${pad(clock.hour)}${pad(clock.minute)}${pad(clock.second)}_${pad(at.getUTCMilliseconds(), 3)}`;
}

export function daemonSnapshotName(prefix: string, at: Date, format: string, location?: string): string {
  return `${prefix}${snapshotTimestamp(at, format, location)}`;
}
