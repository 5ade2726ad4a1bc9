/**
 * Pins the wire format: the hex examples in docs/protocol.md must be exactly what this
 * implementation sends (captured from real calls where possible), and must decode back.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { cancelledBy } from '../../rpc/call-scope.js';
import { RpcServer, connect } from '../../rpc/index.js';
import { FrameDecoder } from '../../rpc/frame-decoder.js';
import { FrameFlag, FrameType, PROTOCOL_VERSION, encodeFrame } from '../../rpc/frame.js';
import { decodeMessage } from '../../rpc/message-codec.js';
import { DEFAULT_LIMITS } from '../../rpc/limits.js';
import { decodeGoaway, decodeHello, decodeReset, decodeStreamHeaders, encodeJson, encodePing, encodeWindow } from '../../rpc/wire.js';
import { rpcErrorToWire } from '../../rpc/wire-error.js';
import { memoryPair } from '../helpers/rpc-pair.js';
import { RawPeer } from '../helpers/rpc-raw-peer.js';
import { testContract, testImplementation } from '../helpers/rpc-test-contract.js';
import { formatFrameHex, goldenBytes, goldenNames, splitFrames } from '../helpers/rpc-wire.js';
import type { RawFrame } from '../helpers/rpc-wire.js';

/** Run a real exchange over an in-memory pair and record both directions' bytes. */
async function recordExchange(): Promise<{ client: RawFrame[]; server: RawFrame[] }> {
  const clientBytes: Buffer[] = [];
  const serverBytes: Buffer[] = [];
  const pair = memoryPair({ clientTap: (chunk) => clientBytes.push(Buffer.from(chunk)), serverTap: (chunk) => serverBytes.push(Buffer.from(chunk)) });
  const server = new RpcServer();
  server.register(testContract, testImplementation());
  const serving = server.serve(pair.server);
  const client = await connect(pair.client, testContract);
  assert.deepEqual(await client.add({ a: 1, b: 2 }), { sum: 3 });
  assert.equal((await client.upload({ name: 'x' }, Readable.from([Buffer.from('abc')]))).bytes, 3);
  await client.close();
  await serving.closed;
  await pair.close();
  return { client: splitFrames(Buffer.concat(clientBytes)), server: splitFrames(Buffer.concat(serverBytes)) };
}

function show(frames: Buffer): string {
  return splitFrames(frames)
    .map((frame) => formatFrameHex(frame.bytes))
    .join('\n');
}

function assertGolden(name: string, actual: Buffer): void {
  const expected = goldenBytes(name);
  assert.ok(actual.equals(expected), `golden example ${name} differs from what we send; we send:\n${show(actual)}`);
}

describe('docs/protocol.md examples are what the implementation sends', () => {
  const recorded = recordExchange();

  test('every golden block is covered by this file', () => {
    assert.deepEqual(
      goldenNames().sort(),
      ['close', 'data-and-trailer', 'early-answer', 'goaway', 'hello', 'ping', 'request-headers', 'request-message', 'reset', 'response', 'window'].sort(),
    );
  });

  test('HELLO as initiator with default limits', async () => {
    const { client, server } = await recorded;
    const hello = client[0] as RawFrame;
    assertGolden('hello', hello.bytes);
    const decoded = decodeHello(hello.payload);
    assert.equal(decoded.role, 'initiator');
    assert.equal(decoded.limits.streamWindow, DEFAULT_LIMITS.streamWindow);
    assert.equal(decodeHello((server[0] as RawFrame).payload).role, 'acceptor');
  });

  test('a small call: request HEADERS, request MESSAGE, response', async () => {
    const { client, server } = await recorded;
    assertGolden('request-headers', (client[1] as RawFrame).bytes);
    assertGolden('request-message', (client[2] as RawFrame).bytes);
    assertGolden('response', Buffer.concat([(server[1] as RawFrame).bytes, (server[2] as RawFrame).bytes]));
    assert.deepEqual(decodeMessage((client[2] as RawFrame).payload), { a: 1, b: 2 });
    assert.deepEqual(decodeStreamHeaders((server[1] as RawFrame).payload), { kind: 'response', ok: true });
  });

  test('a request byte stream: DATA then the trailer, on stream 3', async () => {
    const { client } = await recorded;
    const onStream3 = client.filter((frame) => frame.streamId === 3);
    assert.deepEqual(
      onStream3.map((frame) => frame.type),
      [FrameType.HEADERS, FrameType.MESSAGE, FrameType.DATA, FrameType.HEADERS],
    );
    assert.equal((onStream3[1] as RawFrame).flags, 0, 'the MESSAGE does not end the direction when a stream follows');
    assertGolden('data-and-trailer', Buffer.concat([(onStream3[2] as RawFrame).bytes, (onStream3[3] as RawFrame).bytes]));
  });

  test('graceful close: GOAWAY, then GOAWAY+ACK', async () => {
    const { client, server } = await recorded;
    const clientGoaway = client.at(-1) as RawFrame;
    const serverGoaway = server.at(-1) as RawFrame;
    assertGolden('close', Buffer.concat([clientGoaway.bytes, serverGoaway.bytes]));
    assert.equal(serverGoaway.flags, FrameFlag.ACK);
    assert.deepEqual(decodeGoaway(serverGoaway.payload), { lastStreamId: 3, code: 'RPC_GOAWAY', message: 'acknowledged' });
  });

  test('control frames: PING, WINDOW, RESET, GOAWAY', () => {
    assertGolden('ping', encodeFrame(PROTOCOL_VERSION, FrameType.PING, 0, 0, encodePing(1n)));
    assertGolden(
      'window',
      Buffer.concat([
        encodeFrame(PROTOCOL_VERSION, FrameType.WINDOW, 0, 3, encodeWindow(2 * 1024 * 1024)),
        encodeFrame(PROTOCOL_VERSION, FrameType.WINDOW, 0, 0, encodeWindow(8 * 1024 * 1024)),
      ]),
    );
    const controller = new AbortController();
    controller.abort();
    const reset = encodeFrame(PROTOCOL_VERSION, FrameType.RESET, 0, 5, encodeJson(rpcErrorToWire(cancelledBy(controller.signal))));
    assertGolden('reset', reset);
    assert.deepEqual(decodeReset(goldenBytes('reset').subarray(12)), { code: 'RPC_CANCELLED', message: 'call cancelled' });
    assertGolden('goaway', encodeFrame(PROTOCOL_VERSION, FrameType.GOAWAY, 0, 0, encodeJson({ lastStreamId: 7, code: 'RPC_GOAWAY', message: 'closing' })));
  });

  test('an early answer: an unknown endpoint is answered at its HEADERS, then RESET', async () => {
    const pair = memoryPair();
    const server = new RpcServer();
    server.register(testContract, testImplementation());
    const serving = server.serve(pair.server);
    const caller = new RawPeer(pair.client.stream);
    try {
      caller.sendHello({ role: 'initiator' });
      await caller.nextFrame((frame) => frame.type === FrameType.HELLO, 'the callee HELLO');
      const request = encodeFrame(PROTOCOL_VERSION, FrameType.HEADERS, 0, 1, encodeJson({ kind: 'request', endpoint: 'zferry.test.v1/nope', metadata: {} }));
      pair.client.stream.write(request);
      await caller.nextFrame((frame) => frame.type === FrameType.RESET, 'the RESET');
      const answer = caller.frames.filter((frame) => frame.streamId === 1);
      assert.deepEqual(
        answer.map((frame) => [frame.type, frame.flags]),
        [
          [FrameType.HEADERS, FrameFlag.END],
          [FrameType.RESET, 0],
        ],
      );
      assertGolden('early-answer', Buffer.concat([request, ...answer.map((frame) => frame.bytes)]));
      assert.equal((decodeStreamHeaders((answer[0] as RawFrame).payload) as { error: { code: string } }).error.code, 'RPC_UNKNOWN_ENDPOINT');
      assert.equal(decodeReset((answer[1] as RawFrame).payload).code, 'RPC_CANCELLED');
    } finally {
      caller.destroy();
      await serving.closed.catch(() => undefined);
      await pair.close();
    }
  });

  test('every golden example decodes frame by frame, whatever the chunking', () => {
    for (const name of goldenNames()) {
      const bytes = goldenBytes(name);
      const expected = splitFrames(bytes).map((f) => ({ type: f.type, flags: f.flags, streamId: f.streamId, payload: f.payload.toString('hex') }));
      for (const piece of [1, 5, 12, 13, bytes.length]) {
        const seen: typeof expected = [];
        let data = '';
        const decoder = new FrameDecoder(
          {
            onFrame: (type, flags, streamId, payload) => seen.push({ type, flags, streamId, payload: payload.toString('hex') }),
            onDataStart: () => {
              data = '';
            },
            onDataChunk: (_id, chunk) => {
              data += chunk.toString('hex');
            },
            onDataEnd: (streamId, flags) => seen.push({ type: FrameType.DATA, flags, streamId, payload: data }),
          },
          DEFAULT_LIMITS,
        );
        // The decoder insists on HELLO first; prepend one unless the example is the HELLO.
        if (name !== 'hello') decoder.push(goldenBytes('hello'));
        for (let i = 0; i < bytes.length; i += piece) decoder.push(bytes.subarray(i, i + piece));
        assert.deepEqual(seen.slice(name === 'hello' ? 0 : 1), expected, `${name} in pieces of ${piece}`);
      }
    }
  });
});
