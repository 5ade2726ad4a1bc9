/**
 * The names of the snapshots the daemon takes: the job's prefix, then the time in UTC in the
 * job's `timestamp_format` (zrepl's names): `dense` (default) `20261203_134500_000`, `human`
 * `2026-12-03_13:45:00`, `iso-8601` `2026-12-03T13:45:00.000Z`, `unix-seconds` `1796305500`.
 */
const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

export function snapshotTimestamp(at: Date, format: string): string {
  const date = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}`;
  const time = `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  switch (format) {
    case 'human':
      return `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}_${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`;
    case 'iso-8601':
      return at.toISOString();
    case 'unix-seconds':
      return String(Math.floor(at.getTime() / 1000));
    default:
      return `${date}_${time}_${pad(at.getUTCMilliseconds(), 3)}`;
  }
}

export function daemonSnapshotName(prefix: string, at: Date, format: string): string {
  return `${prefix}${snapshotTimestamp(at, format)}`;
}
