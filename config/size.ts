/**
 * Sizes as zrepl writes them (`bandwidth_limit: {max: 23.5 MiB}`): a number of bytes, or a
 * number with a unit, binary (KiB, MiB, GiB, TiB) or decimal (KB, MB, GB, TB). Pure.
 */

const UNIT_BYTES: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  TB: 1000 ** 4,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/;
export const SIZE_EXAMPLES = 'write it like 50 MiB, 23.5 MiB, 512 KiB or a number of bytes';

/** Whole bytes (fractions of a byte dropped), or why `value` is not a size. */
export function parseSize(value: number | string): { bytes: number } | { problem: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { problem: 'it is negative' };
    return { bytes: Math.floor(value) };
  }
  const match = SIZE.exec(value.trim());
  if (match === null) return { problem: 'cannot read it' };
  const unit = match[2] === '' ? 'B' : (match[2] ?? 'B');
  const size = UNIT_BYTES[unit];
  if (size === undefined) return { problem: `unknown unit ${JSON.stringify(unit)} (B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)` };
  const bytes = Math.floor(Number(match[1]) * size);
  return Number.isSafeInteger(bytes) ? { bytes } : { problem: 'it is too large' };
}
