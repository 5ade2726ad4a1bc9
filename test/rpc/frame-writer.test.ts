import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { FrameWriter } from '../../rpc/frame-writer.js';
import { FrameType } from '../../rpc/frame.js';
import { splitFrames } from '../helpers/rpc-wire.js';

/** A sink recording every buffer handed to it, with a tiny buffer so backpressure shows. */
function recordingSink(): { sink: Writable; writes: Buffer[]; release: () => void } {
  const writes: Buffer[] = [];
  const held: Array<() => void> = [];
  const sink = new Writable({
    highWaterMark: 1024,
    writev(chunks, callback) {
      for (const { chunk } of chunks) writes.push(chunk as Buffer);
      held.push(() => callback());
    },
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk);
      held.push(() => callback());
    },
  });
  return {
    sink,
    writes,
    release: () => {
      while (held.length > 0) (held.shift() as () => void)();
    },
  };
}

test('small frames are batched per tick; big payloads go out as the same Buffer, in order', async () => {
  const { sink, writes, release } = recordingSink();
  const writer = new FrameWriter(sink);
  const big = Buffer.alloc(100_000, 5);
  writer.frame(FrameType.PING, 0, 0, Buffer.alloc(8, 1));
  writer.frame(FrameType.WINDOW, 0, 3, Buffer.from([0, 0, 0, 9]));
  const ok = writer.data(7, 0, [big.subarray(0, 60_000), big.subarray(60_000)], big.length);
  writer.frame(FrameType.PING, 0, 0, Buffer.alloc(8, 2));
  assert.equal(ok, false, 'the sink asked us to wait');
  assert.equal(writer.blocked, true);
  const writable = new Promise<void>((resolve) => writer.whenWritable(resolve));
  await new Promise((resolve) => process.nextTick(resolve));
  release();
  await new Promise((resolve) => setImmediate(resolve));
  release();
  // The two small frames before the DATA frame went out together, in one write.
  assert.deepEqual(
    splitFrames(writes[0] as Buffer).map((f) => f.type),
    [FrameType.PING, FrameType.WINDOW],
  );
  // The DATA payload buffers were handed to the sink as they are: no copy.
  assert.ok(writes.some((w) => w.buffer === big.buffer && w.length === 60_000));
  assert.ok(writes.some((w) => w.buffer === big.buffer && w.length === 40_000));
  const frames = splitFrames(Buffer.concat(writes));
  assert.deepEqual(
    frames.map((f) => [f.type, f.streamId, f.payload.length]),
    [
      [FrameType.PING, 0, 8],
      [FrameType.WINDOW, 3, 4],
      [FrameType.DATA, 7, 100_000],
      [FrameType.PING, 0, 8],
    ],
  );
  await writable;
  assert.equal(writer.blocked, false);
  assert.equal(writer.bytesWritten, Buffer.concat(writes).length);
});

test('the small frames of one tick reach the sink as one write, once the tick is over', async () => {
  const { sink, writes, release } = recordingSink();
  const writer = new FrameWriter(sink);
  for (let i = 0; i < 5; i++) writer.frame(FrameType.PING, 0, 0, Buffer.alloc(8, i));
  assert.equal(writes.length, 0, 'nothing is written while the tick lasts');
  await new Promise((resolve) => process.nextTick(resolve));
  assert.equal(writes.length, 1, 'one write for the whole tick');
  assert.deepEqual(
    splitFrames(writes[0] as Buffer).map((f) => [f.type, f.payload[0]]),
    [0, 1, 2, 3, 4].map((i) => [FrameType.PING, i]),
  );
  release();

  // The next tick's frames make the next write.
  writer.frame(FrameType.WINDOW, 0, 3, Buffer.from([0, 0, 0, 1]));
  writer.frame(FrameType.WINDOW, 0, 5, Buffer.from([0, 0, 0, 2]));
  assert.equal(writes.length, 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writes.length, 2);
  assert.deepEqual(
    splitFrames(writes[1] as Buffer).map((f) => [f.type, f.streamId]),
    [
      [FrameType.WINDOW, 3],
      [FrameType.WINDOW, 5],
    ],
  );
  assert.equal(writer.bytesWritten, Buffer.concat(writes).length);
});

test('after close() nothing more is written and waiters are released', async () => {
  const { sink, writes } = recordingSink();
  const writer = new FrameWriter(sink);
  writer.frame(FrameType.PING, 0, 0, Buffer.alloc(8));
  writer.close();
  writer.frame(FrameType.PING, 0, 0, Buffer.alloc(8));
  assert.equal(writer.data(1, 0, [Buffer.alloc(10)], 10), false);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writes.length, 0);
  await new Promise<void>((resolve) => writer.whenWritable(resolve));
});
