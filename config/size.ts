/**
 * Sizes as zrepl writes them (`bandwidth_limit: {max: 23.5 MiB}`): a number of bytes, or a
 * number with a unit, read by the same parser as the CLI's `--bwlimit` (platform/byte-size.ts:
 * KiB/MiB/GiB and bare K/M/G binary, KB/MB/GB decimal). Pure.
 */
import { parseByteSize } from '../platform/byte-size.js';

export const SIZE_EXAMPLES = 'write it like 50 MiB, 23.5 MiB, 512 KiB or a number of bytes';

/** Whole bytes, or why `value` is not a size. */
export function parseSize(value: number | string): { bytes: number } | { problem: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { problem: 'it is negative' };
    return { bytes: Math.floor(value) };
  }
  try {
    return { bytes: parseByteSize(value) };
  } catch {
    return { problem: 'cannot read it (units: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)' };
  }
}
