import { PlanArgumentError } from './errors.js';

/** What zfs accepts in a snapshot name component, minus the space (awkward in every shell). */
const SAFE_PREFIX = /^[A-Za-z0-9_.:-]*$/;

/**
 * `20261123T105300Z`: UTC, second resolution, fixed width so names sort by time, and only
 * characters that zfs accepts in any name.
 */
export function formatUtcCompact(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new PlanArgumentError('invalid date');
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new PlanArgumentError(`year ${year} does not fit a 4-digit timestamp`);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    String(year).padStart(4, '0') +
    two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) +
    'T' +
    two(date.getUTCHours()) +
    two(date.getUTCMinutes()) +
    two(date.getUTCSeconds()) +
    'Z'
  );
}

/** The short name (after `@`) of a snapshot zferry takes at `date`, e.g. `zferry_20261123T105300Z`. */
export function snapshotNameFor(date: Date, prefix = 'zferry_'): string {
  if (!SAFE_PREFIX.test(prefix)) {
    throw new PlanArgumentError(`snapshot prefix ${JSON.stringify(prefix)} may only contain letters, digits and _ . : -`);
  }
  return prefix + formatUtcCompact(date);
}
