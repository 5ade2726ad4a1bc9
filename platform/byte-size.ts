/**
 * Sizes and rates as people write them: `50M`, `50MiB`, `50 MiB`, `1.5G`, `64k`, `1048576`,
 * optionally followed by `/s`. A bare letter (K, M, G, T) and the `iB` forms are powers of 1024,
 * as syncoid's `--bwlimit` (pv, mbuffer) reads them; `kB`, `MB`, `GB`, `TB` are powers of 1000.
 */
import { ZferryError } from './errors.js';

export class InvalidByteSizeError extends ZferryError {
  constructor(text: string) {
    super('INVALID_BYTE_SIZE', `not a size: ${JSON.stringify(text)} (expected a number with an optional unit: 50M, 50MiB, 500MB, 1048576)`);
  }
}

const BINARY: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
const DECIMAL: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** Bytes (an integer, at least 1 for a positive input); throws InvalidByteSizeError. */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i?b)?|(b))?\s*(?:\/\s*s)?\s*$/i.exec(text);
  if (match === null) throw new InvalidByteSizeError(text);
  const value = Number(match[1]);
  const prefix = (match[2] ?? match[4] ?? '').toLowerCase();
  const suffix = match[3] ?? '';
  // `MB` (no i) is SI; `M` and `MiB` are binary.
  const factor = suffix.toLowerCase() === 'b' ? DECIMAL[prefix] : BINARY[prefix];
  if (factor === undefined) throw new InvalidByteSizeError(text);
  const bytes = Math.round(value * factor);
  if (!Number.isSafeInteger(bytes)) throw new InvalidByteSizeError(text);
  return bytes;
}
