import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncomingByteStream } from '../../rpc/stream-receiver.js';

function receiver(): { stream: IncomingByteStream; consumed: () => number; abandoned: () => number } {
  let consumed = 0;
  let abandoned = 0;
  const stream = new IncomingByteStream({
    consumed: (bytes) => (consumed += bytes),
    abandoned: () => (abandoned += 1),
  });
  return { stream, consumed: () => consumed, abandoned: () => abandoned };
}

test('credit is reported only for bytes the consumer took out', async () => {
  const { stream, consumed } = receiver();
  stream.deliver(Buffer.alloc(1000));
  stream.deliver(Buffer.alloc(3000));
  assert.equal(consumed(), 0, 'nothing read yet');
  // One read() that empties the whole buffer must still report it all.
  const chunk = stream.read() as Buffer;
  assert.equal(chunk.length, 4000);
  assert.equal(consumed(), 4000);
});

test('in flowing mode bytes count as consumed as they are emitted, and the tail after the end too', async () => {
  const { stream, consumed } = receiver();
  const seen: number[] = [];
  stream.on('data', (chunk: Buffer) => seen.push(chunk.length));
  stream.deliver(Buffer.alloc(10));
  stream.deliver(Buffer.alloc(20));
  stream.finish();
  await new Promise((resolve) => stream.once('end', resolve));
  assert.deepEqual(seen, [10, 20]);
  assert.equal(consumed(), 30);
  assert.equal(stream.bytesReceived, 30);
});

test('a consumer destroying the stream early abandons it and gives the buffered credit back', () => {
  const { stream, consumed, abandoned } = receiver();
  stream.deliver(Buffer.alloc(500));
  stream.destroy();
  assert.equal(abandoned(), 1);
  assert.equal(consumed(), 500);
  stream.deliver(Buffer.alloc(70)); // still in flight when we gave up
  assert.equal(consumed(), 570);
});

test('a failure nobody listens for does not throw; the end of a finished stream is not an abandon', async () => {
  const failing = receiver();
  failing.stream.fail(new Error('connection lost'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(failing.stream.destroyed, true);
  assert.equal(failing.abandoned(), 0);
  const finished = receiver();
  finished.stream.finish();
  finished.stream.resume();
  await new Promise((resolve) => finished.stream.once('close', resolve));
  assert.equal(finished.abandoned(), 0);
});
