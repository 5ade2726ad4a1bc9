/**
 * A byte stream paced by a token bucket: each chunk passes (uncopied, in slices) once the
 * bucket paid for it, so whatever reads the stream gets at most the bucket's rate, and the
 * writer is held back by ordinary stream backpressure. Several streams on one bucket share its
 * rate. Slices keep the output even: a 1 MiB chunk does not go out as one burst per second.
 */
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BandwidthLimit } from './limit.js';
import { TokenBucket, type BucketClock } from './token-bucket.js';

/** The largest slice paid for and pushed at once (smaller where the bucket is smaller). */
const MAX_SLICE_BYTES = 64 * 1024;

/** One bucket for every stream of a job (or of every client of a serving job). */
export function createSharedBucket(limit: BandwidthLimit, clock?: BucketClock): TokenBucket {
  return new TokenBucket({ bytesPerSecond: limit.maxBytesPerSecond, capacityBytes: limit.bucketCapacityBytes, ...(clock !== undefined ? { clock } : {}) });
}

/** A Transform that passes its input on at the bucket's pace; destroying it cuts a wait short. */
export function throttleTransform(bucket: TokenBucket): Transform {
  const stopped = new AbortController();
  const slice = Math.max(1, Math.min(MAX_SLICE_BYTES, Math.floor(bucket.capacityBytes / 2)));
  return new Transform({
    // Input may queue (it is not paid for yet); paid output should not pile up unread, or it
    // reaches the reader later as a burst above the rate.
    writableHighWaterMark: 1024 * 1024,
    readableHighWaterMark: slice,
    transform(chunk: Buffer, _encoding, callback) {
      const forward = async (): Promise<void> => {
        for (let offset = 0; offset < chunk.length; offset += slice) {
          const part = chunk.subarray(offset, Math.min(chunk.length, offset + slice));
          await bucket.take(part.length, stopped.signal);
          this.push(part);
        }
      };
      forward().then(
        () => callback(),
        (error: unknown) => callback(error as Error),
      );
    },
    destroy(error, callback) {
      stopped.abort(error ?? new Error('throttled stream closed'));
      callback(error);
    },
  });
}

/**
 * `source` read through the bucket: what a serving endpoint wraps around a `send` answer's
 * stream or a `receive` request's stream. Errors and early closes travel both ways, as with
 * pipeline().
 */
export function throttleReadable(source: Readable, bucket: TokenBucket): Readable {
  const throttled = throttleTransform(bucket);
  pipeline(source, throttled).catch(() => undefined);
  return throttled;
}
