// The throttled stream on the real clock: bytes pass unchanged and in order, no faster than the
// bucket allows (a lower bound on the time only: how much slower a busy machine makes it is no
// property of the stream), two streams on one bucket share its rate, and closing a stream
// mid-wait leaves nobody waiting on the bucket.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createSharedBucket, throttleReadable } from '../../../replication/throttle/throttled-stream.js';

const RATE = 4 * 1024 * 1024;
const CAPACITY = 256 * 1024;

/** Reads `stream` to the end: its sha256 and byte count. */
async function drain(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** `total` random bytes in 1 MiB chunks (larger than the bucket: the stream slices them). */
function source(total: number): { stream: Readable; sha256: string } {
  const chunks: Buffer[] = [];
  for (let left = total; left > 0; left -= 1024 * 1024) chunks.push(randomBytes(Math.min(left, 1024 * 1024)));
  return { stream: Readable.from(chunks), sha256: createHash('sha256').update(Buffer.concat(chunks)).digest('hex') };
}

test('one stream: the same bytes, no faster than the limit', async () => {
  const bucket = createSharedBucket({ maxBytesPerSecond: RATE, bucketCapacityBytes: CAPACITY });
  const total = 6 * 1024 * 1024;
  const { stream, sha256 } = source(total);
  const started = performance.now();
  const out = await drain(throttleReadable(stream, bucket));
  const elapsedMs = performance.now() - started;
  assert.deepEqual(out, { sha256, bytes: total });
  const floorMs = ((total - CAPACITY) / RATE) * 1000 * 0.95;
  assert.ok(elapsedMs >= floorMs, `${total} bytes in ${elapsedMs.toFixed(0)} ms: the limit allows no less than ${floorMs.toFixed(0)} ms`);
});

test('two streams on one bucket share its rate', async () => {
  const bucket = createSharedBucket({ maxBytesPerSecond: RATE, bucketCapacityBytes: CAPACITY });
  const each = 3 * 1024 * 1024;
  const a = source(each);
  const b = source(each);
  const started = performance.now();
  const [outA, outB] = await Promise.all([drain(throttleReadable(a.stream, bucket)), drain(throttleReadable(b.stream, bucket))]);
  const elapsedMs = performance.now() - started;
  assert.deepEqual(
    [outA, outB],
    [
      { sha256: a.sha256, bytes: each },
      { sha256: b.sha256, bytes: each },
    ],
  );
  const floorMs = ((2 * each - CAPACITY) / RATE) * 1000 * 0.95;
  assert.ok(elapsedMs >= floorMs, `${2 * each} bytes in ${elapsedMs.toFixed(0)} ms over one bucket: no less than ${floorMs.toFixed(0)} ms`);
});

test('closing a stream while it waits takes it off the bucket', async () => {
  const bucket = createSharedBucket({ maxBytesPerSecond: 64 * 1024, bucketCapacityBytes: 64 * 1024 });
  const throttled = throttleReadable(source(4 * 1024 * 1024).stream, bucket);
  throttled.resume();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(bucket.waiting, 1, 'the stream waits for tokens');
  throttled.destroy();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(bucket.waiting, 0);
});
