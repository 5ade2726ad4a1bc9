import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcProtocolError } from '../../rpc/errors.js';
import { FrameDecoder } from '../../rpc/frame-decoder.js';
import type { FrameHandler } from '../../rpc/frame-decoder.js';
import { FrameFlag, FrameType, PROTOCOL_VERSION, encodeFrame } from '../../rpc/frame.js';
import { helloPayload } from '../helpers/rpc-raw-peer.js';

const HELLO = encodeFrame(PROTOCOL_VERSION, FrameType.HELLO, 0, 0, helloPayload());
const LIMITS = { maxFramePayload: 64 * 1024, maxHeaderBytes: 8 * 1024 };

interface Seen {
  frames: Array<{ type: number; flags: number; streamId: number; payload: Buffer }>;
  data: Array<{ streamId: number; chunk: Buffer }>;
  dataFrames: Array<{ streamId: number; length: number }>;
  largest: number;
}

function recorder(): { handler: FrameHandler; seen: Seen } {
  const seen: Seen = { frames: [], data: [], dataFrames: [], largest: 0 };
  return {
    seen,
    handler: {
      onFrame(type, flags, streamId, payload) {
        seen.frames.push({ type, flags, streamId, payload });
        seen.largest = Math.max(seen.largest, payload.length);
      },
      onDataStart(streamId, _flags, length) {
        seen.dataFrames.push({ streamId, length });
        seen.largest = Math.max(seen.largest, length);
      },
      onDataChunk(streamId, chunk) {
        seen.data.push({ streamId, chunk });
      },
      onDataEnd() {},
    },
  };
}

function decoderError(bytes: Buffer, limits = LIMITS): RpcProtocolError {
  const { handler } = recorder();
  const decoder = new FrameDecoder(handler, limits);
  try {
    decoder.push(bytes);
  } catch (error) {
    assert.ok(error instanceof RpcProtocolError, `expected RpcProtocolError, got ${String(error)}`);
    return error;
  }
  assert.fail('the decoder accepted the input');
}

describe('frame decoder', () => {
  test('round trip: frames of every type come out as they went in, in any chunking', () => {
    const frames = [
      HELLO,
      encodeFrame(1, FrameType.HEADERS, FrameFlag.END, 7, Buffer.from('{"kind":"trailer","ok":true}')),
      encodeFrame(1, FrameType.MESSAGE, FrameFlag.MORE, 7, Buffer.from([1, 2, 3])),
      encodeFrame(1, FrameType.DATA, 0, 9, Buffer.alloc(5000, 7)),
      encodeFrame(1, FrameType.DATA, 0, 9, Buffer.alloc(0)),
      encodeFrame(1, FrameType.WINDOW, 0, 0, Buffer.from([0, 0, 1, 0])),
      encodeFrame(1, FrameType.PING, 0, 0, Buffer.alloc(8, 1)),
      encodeFrame(1, FrameType.GOAWAY, FrameFlag.ACK, 0, Buffer.from('{}')),
    ];
    const all = Buffer.concat(frames);
    for (const piece of [1, 2, 3, 11, 12, 13, 100, all.length]) {
      const { handler, seen } = recorder();
      const decoder = new FrameDecoder(handler, LIMITS);
      for (let i = 0; i < all.length; i += piece) decoder.push(all.subarray(i, i + piece));
      assert.deepEqual(
        seen.frames.map((f) => [f.type, f.flags, f.streamId, f.payload.toString('hex')]),
        [
          [FrameType.HELLO, 0, 0, helloPayload().toString('hex')],
          [FrameType.HEADERS, FrameFlag.END, 7, Buffer.from('{"kind":"trailer","ok":true}').toString('hex')],
          [FrameType.MESSAGE, FrameFlag.MORE, 7, '010203'],
          [FrameType.WINDOW, 0, 0, '00000100'],
          [FrameType.PING, 0, 0, '0101010101010101'],
          [FrameType.GOAWAY, FrameFlag.ACK, 0, '7b7d'],
        ],
        `pieces of ${piece}`,
      );
      assert.deepEqual(seen.dataFrames, [
        { streamId: 9, length: 5000 },
        { streamId: 9, length: 0 },
      ]);
      assert.ok(Buffer.concat(seen.data.map((d) => d.chunk)).equals(Buffer.alloc(5000, 7)));
      assert.equal(decoder.midFrame, false);
    }
  });

  test('DATA payloads are views into the received chunks, never copies', () => {
    const payload = Buffer.alloc(3000, 9);
    const bytes = Buffer.concat([HELLO, encodeFrame(1, FrameType.DATA, 0, 1, payload)]);
    const { handler, seen } = recorder();
    new FrameDecoder(handler, LIMITS).push(bytes);
    assert.equal(seen.data.length, 1);
    assert.equal((seen.data[0] as { chunk: Buffer }).chunk.buffer, bytes.buffer, 'same memory as the input');
  });

  test('every header field is checked before any payload is buffered', () => {
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.from('HTTP/1.1 400 Bad Request\r\n'), /does not speak zferry-rpc.*"HTTP\/1\.1 400 Bad Request\.\."/],
      [encodeFrame(1, FrameType.PING, 0, 0, Buffer.alloc(8)), /expected a HELLO frame/],
      [encodeFrame(2, FrameType.HELLO, 0, 0, helloPayload()), /expected a HELLO frame/],
      [Buffer.concat([HELLO, encodeFrame(2, FrameType.PING, 0, 0, Buffer.alloc(8))]), /unsupported version 2/],
      [Buffer.concat([HELLO, encodeFrame(1, 0x0a, 0, 0)]), /unknown frame type 0xa/],
      [Buffer.concat([HELLO, encodeFrame(1, FrameType.DATA, FrameFlag.END, 1)]), /DATA frame with invalid flags 0x1/],
      [Buffer.concat([HELLO, encodeFrame(1, FrameType.MESSAGE, FrameFlag.END | FrameFlag.MORE, 1)]), /both MORE and END/],
      [Buffer.concat([HELLO, encodeFrame(1, FrameType.PING, 0, 3, Buffer.alloc(8))]), /PING frame on stream 3/],
      [Buffer.concat([HELLO, encodeFrame(1, FrameType.HEADERS, 0, 0, Buffer.from('{}'))]), /HEADERS frame on stream 0/],
      [Buffer.concat([HELLO, encodeFrame(1, FrameType.WINDOW, 0, 0, Buffer.alloc(5))]), /WINDOW frame of 5 bytes/],
      [Buffer.concat([HELLO, encodeFrame(1, FrameType.HELLO, 0, 0, helloPayload())]), /HELLO sent twice/],
    ];
    for (const [bytes, reason] of cases) assert.match(decoderError(bytes).message, reason);
  });

  test('a peer that is not zferry is recognised from its first byte, before a whole header arrived', () => {
    assert.match(decoderError(Buffer.from('no\n')).message, /does not speak zferry-rpc.*"no\."/);
    const { handler } = recorder();
    const decoder = new FrameDecoder(handler, LIMITS);
    // A HELLO header's fixed start is accepted byte by byte; the first byte that cannot be one fails.
    decoder.push(HELLO.subarray(0, 7));
    assert.throws(() => decoder.push(Buffer.from([9])), /does not speak zferry-rpc/);
  });

  test('oversized lengths are refused from the header alone', () => {
    const huge = Buffer.from([1, FrameType.MESSAGE, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
    assert.match(decoderError(Buffer.concat([HELLO, huge])).message, /MESSAGE frame of 4294967295 bytes exceeds the frame limit of 65536/);
    const bigJson = Buffer.from([1, FrameType.HEADERS, 0, 0, 0, 0, 0, 1, 0, 0, 0x40, 0]);
    assert.match(decoderError(Buffer.concat([HELLO, bigJson])).message, /HEADERS frame of 16384 bytes exceeds the header limit of 8192/);
    const bigHello = Buffer.from([1, FrameType.HELLO, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
    assert.match(decoderError(bigHello).message, /expected a HELLO frame/);
  });

  test('after a failure the decoder accepts nothing more', () => {
    const { handler } = recorder();
    const decoder = new FrameDecoder(handler, LIMITS);
    assert.throws(() => decoder.push(Buffer.from('nonsense nonsense')), RpcProtocolError);
    assert.throws(() => decoder.push(HELLO), RpcProtocolError);
  });
});
