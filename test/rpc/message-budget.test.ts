/**
 * What a peer can make a receiver hold in unfinished MESSAGE bodies: each endpoint's request
 * limit, the connection's budget and a server's shared budget, refused with a RESET of the
 * stream (the connection stays usable), released when a stream is reset or its connection
 * closes. At the byte level, in-process, and against a server in a child process whose memory
 * is measured while 256 streams try to pin as much as they can.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RpcRequestTooLargeError, RpcServer, connect } from '../../rpc/index.js';
import type { RpcConnection } from '../../rpc/index.js';
import { FrameFlag, FrameType, PROTOCOL_VERSION, encodeFrameHeader } from '../../rpc/frame.js';
import { MessageBudget } from '../../rpc/message-budget.js';
import { decodeMessage, encodeMessage } from '../../rpc/message-codec.js';
import { encodePing } from '../../rpc/wire.js';
import { memoryPair } from '../helpers/rpc-pair.js';
import { RawPeer } from '../helpers/rpc-raw-peer.js';
import { testContract, testImplementation } from '../helpers/rpc-test-contract.js';
import { waitFor } from '../helpers/rpc-util.js';
import { fixtureCommand } from '../fixtures/rpc-fixture-command.js';
import type { MemoryReport } from '../fixtures/rpc-memory-server.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const ECHO = 'zferry.test.v1/echo';
const ADD = 'zferry.test.v1/add';

function openRequest(peer: RawPeer, id: number, endpoint: string): void {
  peer.sendJson(FrameType.HEADERS, 0, id, { kind: 'request', endpoint, metadata: {} });
}

let pings = 0n;
/** Resolves once the other side has handled everything sent before (it answers PINGs in order). */
async function roundTrip(peer: RawPeer): Promise<void> {
  const token = encodePing(++pings);
  peer.send(FrameType.PING, 0, 0, token);
  await peer.nextFrame((f) => f.type === FrameType.PONG && f.payload.equals(token), 'the PONG');
}

/** The RESET the server sent on stream `id` (waits for it). */
async function resetOn(peer: RawPeer, id: number): Promise<Record<string, unknown>> {
  const frame = await peer.nextFrame((f) => f.type === FrameType.RESET && f.streamId === id, `a RESET on stream ${id}`);
  return JSON.parse(frame.payload.toString('utf8')) as Record<string, unknown>;
}

async function rawClient(server: RpcServer): Promise<{ peer: RawPeer; connection: RpcConnection; close(): Promise<void> }> {
  const pair = memoryPair();
  const connection = server.serve(pair.server);
  const peer = new RawPeer(pair.client.stream);
  peer.sendHello({ role: 'initiator' });
  await connection.ready;
  return { peer, connection, close: () => pair.close() };
}

describe('MessageBudget', () => {
  test('charges itself and its parent, refuses what does not fit in either, and gives back', () => {
    const server = new MessageBudget(100, 'server');
    const a = new MessageBudget(60, 'connection', server);
    const b = new MessageBudget(60, 'connection', server);
    assert.equal(a.take(60), undefined);
    assert.equal(a.take(1), a, 'the connection is full');
    assert.equal(b.take(50), server, 'the server is full');
    assert.equal(b.used, 0, 'nothing charged on a refusal');
    assert.equal(b.take(40), undefined);
    assert.equal(server.used, 100);
    a.release(60);
    assert.equal(server.used, 40);
    assert.equal(b.take(20), undefined);
  });
});

describe('request limits per endpoint', () => {
  const server = new RpcServer();
  server.register(testContract, testImplementation());
  after(() => server.close());

  test('a body over the endpoint limit in one frame: RESET RPC_REQUEST_TOO_LARGE, the connection stays usable', async () => {
    const { peer, connection, close } = await rawClient(server);
    openRequest(peer, 1, ADD);
    peer.send(FrameType.MESSAGE, FrameFlag.END, 1, encodeMessage({ a: 1, b: 2, pad: 'x'.repeat(100 * KiB) }));
    const reset = await resetOn(peer, 1);
    assert.equal(reset['code'], 'RPC_REQUEST_TOO_LARGE');
    assert.match(String(reset['message']), /zferry\.test\.v1\/add: request body of more than 65536 bytes/);
    openRequest(peer, 3, ADD);
    peer.send(FrameType.MESSAGE, FrameFlag.END, 3, encodeMessage({ a: 1, b: 2 }));
    const answer = await peer.nextFrame((f) => f.type === FrameType.MESSAGE && f.streamId === 3, 'the answer on stream 3');
    assert.deepEqual(decodeMessage(answer.payload), { sum: 3 });
    assert.equal(connection.isClosed, false);
    await close();
  });

  test('a fragmented body is refused at the fragment that crosses the limit, and nothing stays buffered', async () => {
    const { peer, connection, close } = await rawClient(server);
    openRequest(peer, 1, ADD);
    const fragment = Buffer.alloc(30 * KiB);
    peer.send(FrameType.MESSAGE, FrameFlag.MORE, 1, fragment);
    peer.send(FrameType.MESSAGE, FrameFlag.MORE, 1, fragment);
    await roundTrip(peer);
    assert.equal(connection.stats.bufferedMessageBytes, 60 * KiB);
    assert.equal(
      peer.frames.some((f) => f.type === FrameType.RESET),
      false,
    );
    peer.send(FrameType.MESSAGE, FrameFlag.MORE, 1, fragment);
    assert.equal((await resetOn(peer, 1))['code'], 'RPC_REQUEST_TOO_LARGE');
    assert.equal(connection.stats.bufferedMessageBytes, 0);
    // What was in flight for the reset stream is dropped, not an error.
    peer.send(FrameType.MESSAGE, FrameFlag.END, 1, fragment);
    await roundTrip(peer);
    assert.equal(connection.isClosed, false);
    await close();
  });

  test('the caller gets RpcRequestTooLargeError', async () => {
    const pair = memoryPair();
    server.serve(pair.server);
    const client = await connect(pair.client, testContract);
    try {
      await assert.rejects(
        client.connection.call(ADD, testContract.endpoints.add, { a: 1, b: 2, pad: 'x'.repeat(3 * MiB) }, undefined, undefined),
        (error: unknown) => {
          assert.ok(error instanceof RpcRequestTooLargeError, `got ${String(error)}`);
          assert.equal(error.code, 'RPC_REQUEST_TOO_LARGE');
          return true;
        },
      );
      assert.deepEqual(await client.add({ a: 1, b: 2 }), { sum: 3 });
      // An endpoint that declares a larger limit takes it.
      const text = 'y'.repeat(3 * MiB);
      assert.equal((await client.echo({ text })).text.length, text.length);
    } finally {
      await client.close();
      await pair.close();
    }
  });
});

describe('budgets for unfinished messages', () => {
  /** An echo request body of about 600 KiB, in fragments of 256 KiB (the last with END). */
  const body = encodeMessage({ text: 'z'.repeat(600 * KiB) });
  const fragments = [body.subarray(0, 256 * KiB), body.subarray(256 * KiB, 512 * KiB), body.subarray(512 * KiB)];

  function sendUnfinished(peer: RawPeer, id: number, count: number): void {
    openRequest(peer, id, ECHO);
    for (const fragment of fragments.slice(0, count)) peer.send(FrameType.MESSAGE, FrameFlag.MORE, id, fragment);
  }

  test("a connection's budget: the stream that would exceed it is reset, and a RESET gives the bytes back", async () => {
    const server = new RpcServer({ limits: { maxMessageBytes: MiB, maxBufferedMessageBytes: MiB } });
    server.register(testContract, testImplementation());
    const { peer, connection, close } = await rawClient(server);
    sendUnfinished(peer, 1, 2);
    sendUnfinished(peer, 3, 2);
    await roundTrip(peer);
    assert.equal(connection.stats.bufferedMessageBytes, MiB);
    sendUnfinished(peer, 5, 1);
    const refusal = await resetOn(peer, 5);
    assert.equal(refusal['code'], 'RPC_RESOURCE_EXHAUSTED');
    assert.match(String(refusal['message']), /the connection's budget for unfinished messages \(1048576 bytes\) is spent/);
    // The peer gives up on stream 1: its bytes are free again, and stream 3 can finish.
    peer.sendJson(FrameType.RESET, 0, 1, { code: 'RPC_CANCELLED', message: 'never mind' });
    await roundTrip(peer);
    assert.equal(connection.stats.bufferedMessageBytes, 512 * KiB);
    peer.send(FrameType.MESSAGE, FrameFlag.END, 3, fragments[2]);
    const answer = await peer.nextFrame((f) => f.type === FrameType.MESSAGE && f.streamId === 3, 'the echo on stream 3');
    assert.equal((decodeMessage(answer.payload) as { text: string }).text.length, 600 * KiB);
    assert.equal(connection.stats.bufferedMessageBytes, 0);
    sendUnfinished(peer, 7, 2);
    await roundTrip(peer);
    assert.equal(connection.stats.bufferedMessageBytes, 512 * KiB);
    assert.equal(connection.isClosed, false);
    await close();
    await connection.closed;
    assert.equal(server.bufferedMessageBytes, 0, 'a closed connection gives its bytes back');
    await server.close();
  });

  test("a server's budget is shared by its connections", async () => {
    const server = new RpcServer({ limits: { maxMessageBytes: MiB }, maxBufferedMessageBytes: MiB });
    server.register(testContract, testImplementation());
    const first = await rawClient(server);
    const second = await rawClient(server);
    sendUnfinished(first.peer, 1, 2);
    sendUnfinished(first.peer, 3, 1);
    await roundTrip(first.peer);
    sendUnfinished(second.peer, 1, 1);
    await roundTrip(second.peer);
    assert.equal(server.bufferedMessageBytes, MiB);
    sendUnfinished(second.peer, 3, 1);
    const refusal = await resetOn(second.peer, 3);
    assert.equal(refusal['code'], 'RPC_RESOURCE_EXHAUSTED');
    assert.match(String(refusal['message']), /the server's budget for unfinished messages \(1048576 bytes\) is spent/);
    await first.close();
    await first.connection.closed;
    assert.equal(server.bufferedMessageBytes, 256 * KiB);
    await second.close();
    await second.connection.closed;
    assert.equal(server.bufferedMessageBytes, 0);
    await server.close();
  });
});

describe('a budget shared by several servers (a daemon serves each client with its own)', () => {
  const body = encodeMessage({ text: 'z'.repeat(600 * KiB) });
  const fragment = body.subarray(0, 512 * KiB);

  test('the second server refuses what would exceed the budget the first already holds', async () => {
    const shared = new MessageBudget(MiB, 'server');
    const servers = [0, 1].map(() => new RpcServer({ limits: { maxMessageBytes: MiB }, sharedMessageBudget: shared }));
    for (const server of servers) server.register(testContract, testImplementation());
    const [first, second] = await Promise.all(servers.map((server) => rawClient(server)));
    if (first === undefined || second === undefined) throw new Error('no clients');
    openRequest(first.peer, 1, ECHO);
    first.peer.send(FrameType.MESSAGE, FrameFlag.MORE, 1, fragment);
    openRequest(first.peer, 3, ECHO);
    first.peer.send(FrameType.MESSAGE, FrameFlag.MORE, 3, fragment);
    await roundTrip(first.peer);
    assert.equal(shared.used, MiB);
    openRequest(second.peer, 1, ECHO);
    second.peer.send(FrameType.MESSAGE, FrameFlag.MORE, 1, fragment);
    const refusal = await resetOn(second.peer, 1);
    assert.equal(refusal['code'], 'RPC_RESOURCE_EXHAUSTED');
    assert.match(String(refusal['message']), /the server's budget for unfinished messages \(1048576 bytes\) is spent/);
    await first.close();
    await first.connection.closed;
    assert.equal(shared.used, 0, "the first server's connection gave its bytes back");
    await second.close();
    await Promise.all(servers.map((server) => server.close()));
  });
});

describe('256 streams trying to pin memory in a server process', () => {
  /** Documented bound (docs/protocol.md §12): the server budget (48 MiB) plus decoder buffers and bookkeeping. */
  const BOUND = 64 * MiB;
  /** After the streams are reset, live memory is back to this close to where it started. */
  const SETTLED = 8 * MiB;
  /** What a second identical round may add to the RSS (the first one's memory is reused). */
  const REUSED = 16 * MiB;
  const CONNECTIONS = 4;
  const STREAMS_PER_CONNECTION = 64;
  const FRAGMENTS_PER_STREAM = 2;
  const fragment = Buffer.alloc(MiB, 0x61);

  let child: ChildProcess | undefined;
  let dir: string | undefined;
  after(async () => {
    child?.kill();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  function memory(): Promise<MemoryReport> {
    const reply = once(child as ChildProcess, 'message') as Promise<[MemoryReport]>;
    (child as ChildProcess).send({ type: 'memory' });
    return reply.then(([report]) => report);
  }

  /** Live memory: the JS heap and everything outside it (ArrayBuffers included). */
  const live = (report: MemoryReport): number => report.usage.heapUsed + report.usage.external;
  const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

  /** Write a frame, header and payload as they are (no copy), waiting when the socket is full. */
  async function write(socket: net.Socket, type: number, flags: number, id: number, payload: Buffer): Promise<void> {
    socket.write(encodeFrameHeader(PROTOCOL_VERSION, type, flags, id, payload.length));
    if (!socket.write(payload)) await once(socket, 'drain');
  }

  test('stay within the documented bound, and give the memory back after RESET', async (t) => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-budget-'));
    const socketPath = path.join(dir, 'rpc.sock');
    const { file, args } = fixtureCommand('rpc-memory-server', [socketPath]);
    child = spawn(file, ['--expose-gc', ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const [ready] = (await once(child, 'message')) as [{ type: string }];
    assert.equal(ready.type, 'ready');

    const peers: Array<{ socket: net.Socket; peer: RawPeer }> = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const socket = net.connect({ path: socketPath });
      await once(socket, 'connect');
      const peer = new RawPeer(socket);
      peer.sendHello({ role: 'initiator' });
      await peer.nextFrame((f) => f.type === FrameType.HELLO, 'the server HELLO');
      peers.push({ socket, peer });
    }
    const baseline = await memory();

    // Every stream: a request for an endpoint that takes large bodies, then fragments that
    // never end. Without a budget this pins CONNECTIONS × STREAMS × FRAGMENTS MiB (512 MiB).
    // Twice: the memory freed after the first round is what the second one uses.
    const rssAfterRound: number[] = [];
    for (let round = 0; round < 2; round++) {
      const firstId = 1 + 2 * STREAMS_PER_CONNECTION * round;
      const ids = Array.from({ length: STREAMS_PER_CONNECTION }, (_, s) => firstId + 2 * s);
      await Promise.all(
        peers.map(async ({ socket }) => {
          for (const id of ids) {
            await write(socket, FrameType.HEADERS, 0, id, Buffer.from(JSON.stringify({ kind: 'request', endpoint: ECHO, metadata: {} })));
            for (let f = 0; f < FRAGMENTS_PER_STREAM; f++) await write(socket, FrameType.MESSAGE, FrameFlag.MORE, id, fragment);
          }
        }),
      );
      await Promise.all(peers.map(({ peer }) => roundTrip(peer)));
      const attacked = await memory();
      const refused = peers.flatMap(({ peer }) =>
        peer.frames.filter((f) => f.type === FrameType.RESET && f.streamId >= firstId && f.payload.includes('RPC_RESOURCE_EXHAUSTED')),
      );
      const growth = live(attacked) - live(baseline);
      const detail = `round ${round + 1}: live memory grew by ${mib(growth)} (rss by ${mib(attacked.usage.rss - baseline.usage.rss)}), server holds ${mib(attacked.bufferedMessageBytes)}, ${refused.length} streams refused`;
      t.diagnostic(detail);
      assert.ok(growth <= BOUND, `over the bound of ${mib(BOUND)}: ${detail}`);
      assert.ok(attacked.bufferedMessageBytes >= 32 * MiB, `the budget was used: ${detail}`);
      assert.ok(refused.length > 0, `streams beyond the budget were reset: ${detail}`);
      assert.ok(
        peers.every(({ peer }) => !peer.frames.some((f) => f.type === FrameType.GOAWAY)),
        'no connection was closed',
      );

      for (const { socket } of peers) {
        for (const id of ids) await write(socket, FrameType.RESET, 0, id, Buffer.from(JSON.stringify({ code: 'RPC_CANCELLED', message: 'done' })));
      }
      await Promise.all(peers.map(({ peer }) => roundTrip(peer)));
      const settled = await memory();
      assert.equal(settled.bufferedMessageBytes, 0);
      const left = live(settled) - live(baseline);
      t.diagnostic(`round ${round + 1}, after RESET: live memory ${mib(left)} above the start, rss ${mib(settled.usage.rss - baseline.usage.rss)}`);
      assert.ok(left <= SETTLED, `after RESET, live memory is still ${mib(left)} above the start (rss ${mib(settled.usage.rss - baseline.usage.rss)})`);
      rssAfterRound.push(settled.usage.rss);
    }
    // The process keeps freed pages for reuse (platform/malloc-tuning.ts), so its RSS stays near the
    // first round's peak; a second round must not add to it.
    const [first = 0, second = 0] = rssAfterRound;
    assert.ok(second - first <= REUSED, `the second round grew the RSS by ${mib(second - first)}`);
    for (const { socket } of peers) socket.destroy();
    await waitFor(() => peers.every(({ peer }) => peer.closed), 'the sockets closed');
  });
});
