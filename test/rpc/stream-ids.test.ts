/**
 * Stream ids at the byte level: a request on an id that is lower than one already opened,
 * reused, or passed over is a protocol error (GOAWAY naming the id), never a silently
 * dropped call; skipping ids upwards is allowed.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcProtocolError, RpcServer } from '../../rpc/index.js';
import type { RpcConnection } from '../../rpc/index.js';
import { FrameFlag, FrameType } from '../../rpc/frame.js';
import { decodeMessage, encodeMessage } from '../../rpc/message-codec.js';
import { memoryPair } from '../helpers/rpc-pair.js';
import { RawPeer } from '../helpers/rpc-raw-peer.js';
import { testContract, testImplementation } from '../helpers/rpc-test-contract.js';
import { waitFor } from '../helpers/rpc-util.js';

const server = new RpcServer();
server.register(testContract, testImplementation());
after(() => server.close());

async function rawClient(): Promise<{ peer: RawPeer; connection: RpcConnection; close(): Promise<void> }> {
  const pair = memoryPair();
  const connection = server.serve(pair.server);
  const peer = new RawPeer(pair.client.stream);
  peer.sendHello({ role: 'initiator' });
  await connection.ready;
  return { peer, connection, close: () => pair.close() };
}

/** Open stream `id` with a complete `add` request. */
function sendAdd(peer: RawPeer, id: number, a: number): void {
  peer.sendJson(FrameType.HEADERS, 0, id, { kind: 'request', endpoint: 'zferry.test.v1/add', metadata: {} });
  peer.send(FrameType.MESSAGE, FrameFlag.END, id, encodeMessage({ a, b: 1 }));
}

/** The response body on stream `id`, once it arrived. */
async function answerOn(peer: RawPeer, id: number): Promise<unknown> {
  const message = await peer.nextFrame((f) => f.type === FrameType.MESSAGE && f.streamId === id, `the answer on stream ${id}`);
  assert.equal(message.flags, FrameFlag.END);
  return decodeMessage(message.payload);
}

/** The connection failed with a protocol error naming `pattern`, and told the peer in a GOAWAY. */
async function assertRefused(peer: RawPeer, connection: RpcConnection, pattern: RegExp): Promise<void> {
  const goaway = await peer.json(FrameType.GOAWAY, 'a GOAWAY refusing the request');
  assert.equal(goaway['code'], 'RPC_PROTOCOL');
  assert.match(String(goaway['message']), pattern);
  await connection.closed;
  assert.ok(connection.closeError instanceof RpcProtocolError, `closed with ${String(connection.closeError)}`);
  assert.match(connection.closeError.message, pattern);
  await waitFor(() => peer.ended || peer.closed, 'the server closed the transport');
}

describe('request stream ids', () => {
  test('a request on a lower id than one already opened: GOAWAY naming it', async () => {
    const { peer, connection, close } = await rawClient();
    sendAdd(peer, 5, 1);
    assert.deepEqual(await answerOn(peer, 5), { sum: 2 });
    sendAdd(peer, 3, 2);
    await assertRefused(peer, connection, /request HEADERS on stream 3: stream ids must strictly increase, and 5 was already opened/);
    assert.equal(peer.frames.filter((f) => f.streamId === 3).length, 0, 'stream 3 was never served');
    await close();
  });

  test('a lower id while the higher stream is still open is refused too', async () => {
    const { peer, connection, close } = await rawClient();
    peer.sendJson(FrameType.HEADERS, 0, 5, { kind: 'request', endpoint: 'zferry.test.v1/wait', metadata: {} });
    peer.send(FrameType.MESSAGE, FrameFlag.END, 5, encodeMessage({ ms: 60_000 }));
    sendAdd(peer, 3, 2);
    await assertRefused(peer, connection, /stream 3: stream ids must strictly increase/);
    await close();
  });

  test('reusing the id of a finished stream: GOAWAY naming it', async () => {
    const { peer, connection, close } = await rawClient();
    sendAdd(peer, 1, 1);
    assert.deepEqual(await answerOn(peer, 1), { sum: 2 });
    sendAdd(peer, 1, 2);
    await assertRefused(peer, connection, /request HEADERS on stream 1: stream ids must strictly increase, and 1 was already opened/);
    await close();
  });

  test('a second request on a stream that is still open: GOAWAY naming it', async () => {
    const { peer, connection, close } = await rawClient();
    peer.sendJson(FrameType.HEADERS, 0, 1, { kind: 'request', endpoint: 'zferry.test.v1/add', metadata: {} });
    peer.sendJson(FrameType.HEADERS, 0, 1, { kind: 'request', endpoint: 'zferry.test.v1/add', metadata: {} });
    await assertRefused(peer, connection, /request HEADERS on stream 1, which is already open/);
    await close();
  });

  test('ids may skip upwards; an id passed over cannot be used later', async () => {
    const { peer, connection, close } = await rawClient();
    sendAdd(peer, 1, 1);
    sendAdd(peer, 9, 2);
    assert.deepEqual(await answerOn(peer, 1), { sum: 2 });
    assert.deepEqual(await answerOn(peer, 9), { sum: 3 });
    assert.equal(connection.isClosed, false);
    sendAdd(peer, 5, 3);
    await assertRefused(peer, connection, /request HEADERS on stream 5: stream ids must strictly increase, and 9 was already opened/);
    await close();
  });

  test('late frames for a closed stream are still ignored, not errors', async () => {
    const { peer, connection, close } = await rawClient();
    sendAdd(peer, 1, 1);
    assert.deepEqual(await answerOn(peer, 1), { sum: 2 });
    // What could still be in flight for a stream the peer reset: a trailer, a WINDOW, a RESET.
    peer.sendJson(FrameType.HEADERS, FrameFlag.END, 1, { kind: 'trailer', ok: true });
    peer.send(FrameType.WINDOW, 0, 1, Buffer.from([0, 0, 0, 1]));
    peer.sendJson(FrameType.RESET, 0, 1, { code: 'RPC_CANCELLED', message: 'late' });
    sendAdd(peer, 3, 5);
    assert.deepEqual(await answerOn(peer, 3), { sum: 6 });
    assert.equal(connection.isClosed, false);
    assert.equal(
      peer.frames.some((f) => f.type === FrameType.GOAWAY),
      false,
    );
    await close();
  });
});
