import { Transform } from 'node:stream';

/**
 * Passes chunks through untouched (no copy) while counting bytes, reporting at most every
 * `intervalMs` so a multi-GB stream does not flood the progress display.
 */
export function countingStream(onBytes: (total: number) => void, intervalMs = 250): Transform & { readonly total: number } {
  let total = 0;
  let lastReport = 0;
  const stream = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      const now = Date.now();
      if (now - lastReport >= intervalMs) {
        lastReport = now;
        onBytes(total);
      }
      callback(null, chunk);
    },
    flush(callback) {
      onBytes(total);
      callback();
    },
  });
  return Object.defineProperty(stream, 'total', { get: () => total }) as Transform & { readonly total: number };
}
