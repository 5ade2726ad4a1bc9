/**
 * Behaviour of a network connection beyond the client contract: multiplexing, flow control
 * bounding memory, peers that die or go silent, GOAWAY, calls in both directions, and the
 * handshake with peers that are not what they should be.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  RpcCancelledError,
  RpcConnection,
  RpcConnectionLostError,
  RpcGoawayError,
  RpcProtocolError,
  RpcServer,
  RpcUnknownEndpointError,
  connect,
  defineContract,
  endpoint,
} from '../../rpc/index.js';
import { FrameFlag, FrameType } from '../../rpc/frame.js';
import { startNetwork } from '../helpers/rpc-network.js';
import { memoryPair, tcpPair } from '../helpers/rpc-pair.js';
import { RawPeer } from '../helpers/rpc-raw-peer.js';
import { patternDigest, patternStream, testContract } from '../helpers/rpc-test-contract.js';
import { digestStream, streamError, waitFor } from '../helpers/rpc-util.js';

const MiB = 1024 * 1024;

describe('multiplexing', () => {
  test('1,000 concurrent small calls on one connection, within the peer stream limit', async () => {
    const setup = await startNetwork('tcp', { serverLimits: { maxConcurrentStreams: 64 } });
    let peakOpen = 0;
    const sampler = setInterval(() => (peakOpen = Math.max(peakOpen, setup.serverConnection.openStreamCount)), 1);
    try {
      const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => setup.client.add({ a: i, b: 1 })));
      answers.forEach((answer, i) => assert.equal(answer.sum, i + 1));
      assert.ok(peakOpen <= 64, `at most 64 streams open at the server, saw ${peakOpen}`);
      await waitFor(() => setup.activeCalls() === 0, 'all calls finished');
    } finally {
      clearInterval(sampler);
      await setup.close();
    }
  });

  test('a small call completes while a large stream flows, and while it is blocked on credit', async () => {
    const setup = await startNetwork('tcp');
    try {
      const total = 2048 * MiB;
      const { stream } = await setup.client.download({ bytes: total });
      let received = 0;
      stream.on('data', (chunk: Buffer) => (received += chunk.length));
      await waitFor(() => received > 16 * MiB, 'the stream is flowing');
      assert.deepEqual(await setup.client.add({ a: 1, b: 2 }), { sum: 3 });
      assert.ok(received < total && !stream.readableEnded, 'the small call finished while the stream was still flowing');

      stream.pause();
      const window = setup.client.connection.peerHello?.limits.streamWindow ?? 0;
      await waitFor(() => stream.readableLength >= window - MiB, 'the sender is out of credit');
      assert.deepEqual(await setup.client.add({ a: 2, b: 2 }), { sum: 4 }, 'a small call passes a stream blocked on credit');
      stream.destroy();
      await waitFor(() => setup.activeCalls() === 0, 'the stream was torn down on both sides');
    } finally {
      await setup.close();
    }
  });
});

describe('flow control', () => {
  test('a 256 MiB stream into a paused consumer buffers at most one stream window', async () => {
    const streamWindow = 2 * MiB;
    const setup = await startNetwork('memory', { clientLimits: { streamWindow, connectionWindow: 4 * streamWindow } });
    try {
      const total = 256 * MiB;
      const { stream } = await setup.client.download({ bytes: total });
      stream.on('error', () => {}); // the assertions below say what went wrong
      let peakBuffered = 0;
      const watch = (): void => {
        peakBuffered = Math.max(peakBuffered, stream.readableLength);
      };
      const sampler = setInterval(watch, 1);
      // Nobody reads: the sender must stop after exactly one window.
      await waitFor(() => stream.readableLength === streamWindow, 'the window is full');
      await sleep(100); // the sender fills its own small queue, then pauses the source
      const producedAtStall = setup.observed.produced;
      await sleep(100);
      watch();
      assert.equal(stream.readableLength, streamWindow, 'nothing beyond the window arrived');
      assert.equal(setup.observed.produced, producedAtStall, 'the producer is paused');
      // Sender-side buffering: its queue (one frame), the source's own buffer, the pipe's.
      assert.ok(producedAtStall <= streamWindow + 2 * MiB, `produced ${producedAtStall} bytes while the consumer was paused`);

      // Now read slowly, in small steps, and check the bound holds all the way.
      const digest = digestStream(stream);
      assert.deepEqual(await digest, patternDigest(total));
      clearInterval(sampler);
      assert.ok(peakBuffered <= streamWindow, `peak buffered ${peakBuffered} > window ${streamWindow}`);
      await waitFor(() => setup.activeCalls() === 0, 'the call finished');
    } finally {
      await setup.close();
    }
  });

  // Adaptive windows: a paused consumer shows the current window as what got buffered.
  const base = 256 * 1024;
  const max = 4 * MiB;

  /** Read `bytes` of `stream` as fast as they come, then pause and wait until nothing more arrives. */
  async function readThenPause(stream: NodeJS.ReadableStream & { readableLength: number }, bytes: number): Promise<number> {
    let read = 0;
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        read += chunk.length;
        if (read < bytes) return;
        stream.off('data', onData);
        stream.pause();
        resolve();
      };
      stream.on('data', onData);
    });
    let last = -1;
    while (stream.readableLength !== last) {
      last = stream.readableLength;
      await sleep(50);
    }
    return stream.readableLength;
  }

  test('on a long link, a stream alone grows its window while credit holds it back, up to maxStreamWindow', async () => {
    const setup = await startNetwork('long-link', { clientLimits: { streamWindow: base, maxStreamWindow: max } });
    try {
      const { stream } = await setup.client.download({ bytes: 1024 * MiB });
      stream.on('error', () => {});
      const buffered = await readThenPause(stream, 64 * MiB);
      assert.ok(buffered > base, `the window grew: ${buffered} bytes arrived unread, base ${base}`);
      assert.ok(buffered <= max, `and stayed within maxStreamWindow: ${buffered} > ${max}`);
      stream.destroy();
      await waitFor(() => setup.activeCalls() === 0, 'the stream was torn down');
    } finally {
      await setup.close();
    }
  });

  test('a stream sharing the connection with other calls keeps the base window, and shrinks back to it', async () => {
    const setup = await startNetwork('long-link', { clientLimits: { streamWindow: base, maxStreamWindow: max } });
    try {
      const alone = await setup.client.download({ bytes: 1024 * MiB });
      alone.stream.on('error', () => {});
      assert.ok((await readThenPause(alone.stream, 64 * MiB)) > base, 'alone, the window grew');

      const other = setup.client.wait({ ms: 60_000 });
      other.catch(() => {});
      alone.stream.resume();
      // Consuming more than the grown window lets the receiver keep the excess credit back.
      assert.ok((await readThenPause(alone.stream, 2 * max)) <= base, 'crowded again: back at the base window');

      const shared = await setup.client.download({ bytes: 1024 * MiB });
      shared.stream.on('error', () => {});
      assert.ok((await readThenPause(shared.stream, 16 * MiB)) <= base, 'a stream opened beside others never grew');
      alone.stream.destroy();
      shared.stream.destroy();
      setup.client.connection.destroy();
    } finally {
      await setup.close();
    }
  });

  test('the connection window bounds several paused streams together, and calls still pass', async () => {
    const streamWindow = MiB;
    const connectionWindow = 3 * MiB;
    const setup = await startNetwork('memory', { clientLimits: { streamWindow, connectionWindow } });
    try {
      const downloads = await Promise.all(Array.from({ length: 5 }, () => setup.client.download({ bytes: 64 * MiB })));
      const buffered = (): number => downloads.reduce((sum, d) => sum + d.stream.readableLength, 0);
      await waitFor(() => buffered() === connectionWindow, 'the connection window is used up');
      await sleep(50);
      assert.equal(buffered(), connectionWindow, 'no stream got past the connection window');
      assert.deepEqual(await setup.client.add({ a: 20, b: 22 }), { sum: 42 });
      const digests = await Promise.all(downloads.map((d) => digestStream(d.stream)));
      for (const digest of digests) assert.deepEqual(digest, patternDigest(64 * MiB));
    } finally {
      await setup.close();
    }
  });

  test('a slow consumer slows the producer of a request stream end to end', async () => {
    const contract = defineContract('zferry.test.slow', {
      slowSink: endpoint({ stream: 'request', request: z.object({}), response: z.object({ bytes: z.number() }) }),
    });
    const pair = memoryPair();
    const server = new RpcServer();
    let handlerStream: NodeJS.ReadableStream | undefined;
    let startReading!: () => void;
    const gate = new Promise<void>((resolve) => (startReading = resolve));
    server.register(contract, {
      async slowSink(_req, stream) {
        handlerStream = stream;
        await gate;
        let bytes = 0;
        for await (const chunk of stream) bytes += (chunk as Buffer).length;
        return { bytes };
      },
    });
    server.serve(pair.server);
    const client = await connect(pair.client, contract, {});
    try {
      let produced = 0;
      const source = patternStream(128 * MiB, { onChunk: (n) => (produced += n) });
      const call = client.slowSink({}, source);
      await waitFor(() => handlerStream !== undefined, 'the handler runs');
      const window = client.connection.peerHello?.limits.streamWindow ?? 0;
      await waitFor(() => produced >= window, 'the window is used');
      const stalledAt = produced;
      await sleep(100);
      assert.ok(produced - stalledAt <= 2 * MiB, 'the producer stopped while the handler did not read');
      assert.ok(produced <= window + 3 * MiB, `produced ${produced} bytes against a window of ${window}`);
      startReading();
      assert.deepEqual(await call, { bytes: 128 * MiB });
    } finally {
      await client.close();
      await server.close();
      await pair.close();
    }
  });
});

describe('a peer that dies or goes silent', () => {
  test('destroying the server socket mid-stream fails everything on both sides with RpcConnectionLostError', async () => {
    const setup = await startNetwork('tcp');
    try {
      const waitStarted = once(setup.observed.events, 'wait-started');
      const waiting = setup.client.wait({ ms: 120_000 });
      await waitStarted;
      const { stream } = await setup.client.download({ bytes: 4096 * MiB });
      const errored = streamError(stream);
      await once(stream, 'data');
      setup.pair.server.close();
      assert.ok((await errored) instanceof RpcConnectionLostError);
      await assert.rejects(waiting, RpcConnectionLostError);
      await setup.client.connection.closed;
      await setup.serverConnection.closed;
      assert.ok(setup.client.connection.closeError instanceof RpcConnectionLostError);
      await waitFor(() => setup.observed.waits.length === 1 && setup.observed.downloads.length === 1, 'server handlers noticed');
      assert.deepEqual(setup.observed.waits, ['RpcConnectionLostError']);
      assert.deepEqual(setup.observed.downloads, ['destroyed']);
      await assert.rejects(setup.client.add({ a: 1, b: 1 }), RpcConnectionLostError);
      assert.equal(setup.activeCalls(), 0);
    } finally {
      await setup.close();
    }
  });

  test('destroying the client socket mid-upload errors the handler stream with RpcConnectionLostError', async () => {
    const setup = await startNetwork('unix');
    try {
      const started = once(setup.observed.events, 'upload-started');
      const source = patternStream(4096 * MiB);
      const call = setup.client.upload({ name: 'doomed' }, source);
      await started;
      setup.pair.client.close();
      await assert.rejects(call, RpcConnectionLostError);
      await waitFor(() => setup.observed.uploadErrors.length === 1, 'the handler saw the stream fail');
      assert.ok(setup.observed.uploadErrors[0] instanceof RpcConnectionLostError);
      await setup.serverConnection.closed;
      assert.ok(source.destroyed, 'the request stream is destroyed');
      await waitFor(() => setup.activeCalls() === 0, 'nothing left in progress');
    } finally {
      await setup.close();
    }
  });

  test('a peer that goes silent is declared lost by the keepalive', async () => {
    const pair = await tcpPair();
    const peer = new RawPeer(pair.server.stream);
    peer.sendHello(); // then never answers anything
    try {
      const client = await connect(pair.client, testContract, { limits: { keepaliveIntervalMs: 40, keepaliveTimeoutMs: 200 } });
      const call = client.add({ a: 1, b: 2 });
      await assert.rejects(call, (error: unknown) => {
        assert.ok(error instanceof RpcConnectionLostError);
        assert.match(error.message, /keepalive/);
        return true;
      });
      assert.ok(
        peer.frames.some((f) => f.type === FrameType.PING),
        'it pinged before giving up',
      );
      await client.connection.closed;
      assert.equal(client.connection.activeCallCount, 0);
    } finally {
      await pair.close();
    }
  });

  test('an idle, healthy connection survives many keepalive intervals', async () => {
    const setup = await startNetwork('tcp', {
      clientLimits: { keepaliveIntervalMs: 20, keepaliveTimeoutMs: 100 },
      serverLimits: { keepaliveIntervalMs: 20, keepaliveTimeoutMs: 100 },
    });
    try {
      const written = setup.client.connection.stats.bytesWritten;
      await waitFor(() => setup.client.connection.stats.bytesWritten >= written + 10 * 20, 'ten PINGs or PONGs went out');
      assert.equal(setup.client.connection.isClosed, false);
      assert.deepEqual(await setup.client.add({ a: 1, b: 1 }), { sum: 2 });
      assert.ok((await setup.client.connection.ping()) >= 0);
    } finally {
      await setup.close();
    }
  });
});

describe('GOAWAY and closing', () => {
  test('server.close() lets the call in progress finish and refuses new ones with RpcGoawayError', async () => {
    const setup = await startNetwork('tcp');
    try {
      const started = once(setup.observed.events, 'upload-started');
      const source = new PassThrough();
      const upload = setup.client.upload({ name: 'last' }, source);
      source.write(Buffer.from('hello '));
      await started;
      const serverClosed = setup.server.close();
      await assert.rejects(setup.client.add({ a: 1, b: 1 }), RpcGoawayError);
      source.end(Buffer.from('world'));
      assert.equal((await upload).bytes, 11);
      await serverClosed;
      await setup.client.connection.closed;
      assert.equal(setup.client.connection.closeError, undefined, 'a clean close');
      assert.equal(setup.serverConnection.closeError, undefined);
    } finally {
      await setup.close();
    }
  });

  test('client.close() waits for a response stream to be consumed', async () => {
    const setup = await startNetwork('memory');
    try {
      const { stream } = await setup.client.download({ bytes: 20 * MiB });
      const closing = setup.client.close();
      await assert.rejects(setup.client.add({ a: 1, b: 1 }), RpcGoawayError);
      assert.deepEqual(await digestStream(stream), patternDigest(20 * MiB));
      await closing;
      await setup.serverConnection.closed;
      assert.equal(setup.serverConnection.closeError, undefined);
    } finally {
      await setup.close();
    }
  });

  test('once both sides said goodbye the connection ends, though the peer keeps its side open', async () => {
    const server = new RpcServer();
    const pair = memoryPair();
    const connection = server.serve(pair.server);
    const peer = new RawPeer(pair.client.stream);
    peer.sendHello({ role: 'initiator' });
    await connection.ready;
    peer.sendJson(FrameType.GOAWAY, 0, 0, { lastStreamId: 0, code: 'RPC_GOAWAY', message: 'closing' });
    const ack = await peer.nextFrame((f) => f.type === FrameType.GOAWAY, 'the GOAWAY+ACK');
    assert.equal(ack.flags, FrameFlag.ACK);
    // The peer never ends its side: the server still ends the connection, cleanly.
    await connection.closed;
    assert.equal(connection.closeError, undefined);
    await waitFor(() => peer.ended, 'the server ended its side of the transport');
    assert.equal(pair.client.stream.writableEnded, false, 'the peer did not end its side');
    await pair.close();
  });

  test('the side that sent GOAWAY ends the connection at the GOAWAY+ACK, without waiting for the peer to end its side', async () => {
    const server = new RpcServer();
    const pair = memoryPair();
    const connection = server.serve(pair.server);
    const peer = new RawPeer(pair.client.stream);
    peer.sendHello({ role: 'initiator' });
    await connection.ready;
    const closing = server.close();
    await peer.nextFrame((f) => f.type === FrameType.GOAWAY, 'the server GOAWAY');
    assert.equal(connection.isClosed, false, 'it waits for the goodbye of the peer');
    peer.sendJson(FrameType.GOAWAY, FrameFlag.ACK, 0, { lastStreamId: 0, code: 'RPC_GOAWAY', message: 'acknowledged' });
    await closing;
    assert.equal(connection.closeError, undefined);
    await waitFor(() => peer.ended, 'the server ended its side of the transport');
    await pair.close();
  });

  test('a connection served after server.close() answers HELLO and then refuses calls', async () => {
    const server = new RpcServer();
    await server.close();
    const pair = memoryPair();
    server.serve(pair.server);
    const client = await connect(pair.client, testContract);
    await assert.rejects(client.add({ a: 1, b: 1 }), RpcGoawayError);
    await client.connection.closed;
    await pair.close();
  });
});

describe('calls in both directions', () => {
  test('the serving side can call the connecting side on the same connection', async () => {
    const reverse = defineContract('zferry.test.reverse', {
      whoami: endpoint({ request: z.object({ asker: z.string() }), response: z.object({ answer: z.string() }) }),
    });
    const setup = await startNetwork('tcp');
    try {
      setup.client.connection.register(reverse, {
        async whoami({ asker }) {
          return { answer: `client answering ${asker}` };
        },
      });
      const back = setup.serverConnection.client(reverse);
      const [there, here] = await Promise.all([back.whoami({ asker: 'server' }), setup.client.add({ a: 1, b: 2 })]);
      assert.deepEqual(there, { answer: 'client answering server' });
      assert.deepEqual(here, { sum: 3 });
      await assert.rejects(setup.serverConnection.client(testContract).add({ a: 1, b: 1 }), RpcUnknownEndpointError);
    } finally {
      await setup.close();
    }
  });

  test('an unknown endpoint is a clear error and the connection stays usable', async () => {
    const setup = await startNetwork('tcp');
    try {
      const def = testContract.endpoints.add;
      await assert.rejects(setup.client.connection.call('zferry.test.v1/nope', def, { a: 1, b: 2 }, undefined, undefined), (error: unknown) => {
        assert.ok(error instanceof RpcUnknownEndpointError);
        assert.match(error.message, /zferry\.test\.v1\/nope/);
        return true;
      });
      assert.deepEqual(await setup.client.add({ a: 1, b: 2 }), { sum: 3 });
      await waitFor(() => setup.activeCalls() === 0, 'nothing left in progress');
    } finally {
      await setup.close();
    }
  });
});

describe('handshake', () => {
  async function connectToRawPeer(script: (peer: RawPeer) => void, limits = {}): Promise<unknown> {
    const pair = memoryPair();
    const peer = new RawPeer(pair.server.stream);
    script(peer);
    try {
      await connect(pair.client, testContract, { limits });
      return undefined;
    } catch (error) {
      return error;
    } finally {
      await pair.close();
    }
  }

  test('a peer that is not zferry is recognised from its first bytes', async () => {
    const error = await connectToRawPeer((peer) => peer.stream.write('SSH-2.0-OpenSSH_9.2p1 Debian\r\n'));
    assert.ok(error instanceof RpcProtocolError);
    assert.match(error.message, /does not speak zferry-rpc.*"SSH-2\.0-OpenSSH_9\.2p1 Debian\.\."/);
  });

  test('a banner shorter than a frame header is recognised at once, not at the HELLO timeout', async () => {
    const error = await connectToRawPeer((peer) => peer.stream.write('hi\n'), { helloTimeoutMs: 5_000 });
    assert.ok(error instanceof RpcProtocolError, String(error));
    assert.match(error.message, /does not speak zferry-rpc.*"hi\."/);
  });

  test('no common version, another protocol, or the same role are protocol errors', async () => {
    const noVersion = await connectToRawPeer((peer) => peer.sendHello({ versions: [2, 3] }));
    assert.ok(noVersion instanceof RpcProtocolError);
    assert.match(noVersion.message, /no common protocol version/);
    const otherProtocol = await connectToRawPeer((peer) => peer.sendHello({ protocol: 'grpc' }));
    assert.ok(otherProtocol instanceof RpcProtocolError);
    assert.match(otherProtocol.message, /grpc/);
    const sameRole = await connectToRawPeer((peer) => peer.sendHello({ role: 'initiator' }));
    assert.ok(sameRole instanceof RpcProtocolError);
    assert.match(sameRole.message, /initiator role/);
    const badLimits = await connectToRawPeer((peer) => peer.sendHello({ limits: { maxFramePayload: 1 } }));
    assert.ok(badLimits instanceof RpcProtocolError);
  });

  test('the peer that detects the mismatch tells the other side why', async () => {
    const pair = memoryPair();
    const server = new RpcServer();
    server.serve(pair.server);
    const peer = new RawPeer(pair.client.stream);
    peer.sendHello({ role: 'initiator', versions: [7] });
    const goaway = await peer.json(FrameType.GOAWAY, 'a GOAWAY explaining the refusal');
    assert.equal(goaway['code'], 'RPC_PROTOCOL');
    assert.match(String(goaway['message']), /no common protocol version/);
    await waitFor(() => peer.ended || peer.closed, 'the server closed the connection');
    await pair.close();
  });

  test('a peer that closes or says nothing before HELLO: RpcConnectionLostError', async () => {
    const closed = await connectToRawPeer((peer) => peer.stream.end());
    assert.ok(closed instanceof RpcConnectionLostError);
    const silent = await connectToRawPeer(() => {}, { helloTimeoutMs: 50 });
    assert.ok(silent instanceof RpcConnectionLostError);
    assert.match((silent as Error).message, /no HELLO/);
  });

  test('an aborted connect is cancelled and tears the connection down', async () => {
    const pair = memoryPair();
    const controller = new AbortController();
    const connecting = connect(pair.client, testContract, { signal: controller.signal });
    controller.abort();
    await assert.rejects(connecting, RpcCancelledError);
    await waitFor(() => pair.client.stream.destroyed, 'the transport is closed');
    await pair.close();
  });

  test('two initiators refuse each other', async () => {
    const pair = memoryPair();
    const a = new RpcConnection(pair.client, { role: 'initiator' });
    const b = new RpcConnection(pair.server, { role: 'initiator' });
    await assert.rejects(a.ready, RpcProtocolError);
    await assert.rejects(b.ready, RpcProtocolError);
    await Promise.all([a.closed, b.closed]);
    await pair.close();
  });
});

describe('hostile input after HELLO closes only that connection, with a reason', () => {
  const hostile: Array<{ name: string; send: (peer: RawPeer) => void; reason: RegExp }> = [
    {
      name: 'a frame longer than maxFramePayload',
      send: (peer) => peer.stream.write(Buffer.from([1, FrameType.DATA, 0, 0, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff])),
      reason: /exceeds the frame limit/,
    },
    { name: 'an unknown frame type', send: (peer) => peer.send(0x42, 0, 1), reason: /unknown frame type 0x42/ },
    { name: 'flags a type does not allow', send: (peer) => peer.send(FrameType.DATA, 0x80, 1), reason: /invalid flags/ },
    { name: 'a second HELLO', send: (peer) => peer.sendHello(), reason: /HELLO sent twice/ },
    { name: 'DATA on a stream never opened', send: (peer) => peer.send(FrameType.DATA, 0, 3, Buffer.from('x')), reason: /never opened/ },
    { name: 'HEADERS that are not JSON', send: (peer) => peer.send(FrameType.HEADERS, 0, 1, Buffer.from('{oops')), reason: /not valid JSON/ },
    {
      name: 'a request without endpoint',
      send: (peer) => peer.sendJson(FrameType.HEADERS, 0, 1, { kind: 'request', metadata: {} }),
      reason: /endpoint must be a string/,
    },
    {
      name: 'a stream opened on the wrong parity',
      send: (peer) => peer.sendJson(FrameType.HEADERS, 0, 2, { kind: 'request', endpoint: 'zferry.test.v1/add', metadata: {} }),
      reason: /never opened/,
    },
    {
      name: 'a MESSAGE body that is not MessagePack',
      send: (peer) => {
        peer.sendJson(FrameType.HEADERS, 0, 1, { kind: 'request', endpoint: 'zferry.test.v1/add', metadata: {} });
        peer.send(FrameType.MESSAGE, 1, 1, Buffer.from([0xc1]));
      },
      reason: /not valid MessagePack/,
    },
    {
      name: 'a MESSAGE body with bytes after its one value',
      send: (peer) => {
        peer.sendJson(FrameType.HEADERS, 0, 1, { kind: 'request', endpoint: 'zferry.test.v1/add', metadata: {} });
        peer.send(FrameType.MESSAGE, 1, 1, Buffer.from([0x80, 0x01]));
      },
      reason: /not valid MessagePack/,
    },
    {
      name: 'a MESSAGE reassembled beyond maxMessageBytes',
      send: (peer) => {
        peer.sendJson(FrameType.HEADERS, 0, 1, { kind: 'request', endpoint: 'zferry.test.v1/echo', metadata: {} });
        const fragment = Buffer.alloc(MiB);
        for (let i = 0; i < 70; i++) peer.send(FrameType.MESSAGE, 2, 1, fragment);
      },
      reason: /MESSAGE of more than/,
    },
    {
      name: 'DATA beyond the stream window',
      send: (peer) => {
        peer.sendJson(FrameType.HEADERS, 0, 1, { kind: 'request', endpoint: 'zferry.test.v1/upload', metadata: {} });
        peer.send(FrameType.MESSAGE, 0, 1, Buffer.from([0x81, 0xa4, 0x6e, 0x61, 0x6d, 0x65, 0xa1, 0x78]));
        const chunk = Buffer.alloc(MiB);
        for (let i = 0; i < 2; i++) peer.send(FrameType.DATA, 0, 1, chunk); // the window is 1 MiB
      },
      reason: /flow control/,
    },
    {
      name: 'more concurrent streams than announced',
      send: (peer) => {
        for (let id = 1; id <= 2 * 256 + 3; id += 2)
          peer.sendJson(FrameType.HEADERS, 0, id, { kind: 'request', endpoint: 'zferry.test.v1/wait', metadata: {} });
      },
      reason: /more than 256 concurrent streams/,
    },
    { name: 'a zero WINDOW increment', send: (peer) => peer.send(FrameType.WINDOW, 0, 0, Buffer.alloc(4)), reason: /zero increment/ },
    { name: 'a PING of the wrong size', send: (peer) => peer.send(FrameType.PING, 0, 0, Buffer.alloc(3)), reason: /PING frame of 3 bytes/ },
  ];

  const server = new RpcServer({ limits: { streamWindow: MiB, connectionWindow: 4 * MiB } });
  after(() => server.close());
  server.register(testContract, {
    async echo(req, ctx) {
      return { ...req, peer: ctx.peer.name, metadata: ctx.metadata };
    },
    async add({ a, b }) {
      return { sum: a + b };
    },
    async fail() {
      throw new Error('unused');
    },
    async wait({ ms }, ctx) {
      await sleep(ms, undefined, { signal: ctx.signal });
      return { waited: ms };
    },
    async lie() {
      return { count: 1 };
    },
    async upload(_req, stream, ctx) {
      stream.pause(); // never reads: the peer must respect the window
      await sleep(120_000, undefined, { signal: ctx.signal }).catch(() => {});
      return { bytes: 0, sha256: '' };
    },
    async download() {
      return { response: { bytes: 0 }, stream: patternStream(0) };
    },
  });

  for (const { name, send, reason } of hostile) {
    test(name, async () => {
      const pair = memoryPair();
      const connection = server.serve(pair.server);
      const peer = new RawPeer(pair.client.stream);
      peer.sendHello({ role: 'initiator' });
      await connection.ready;
      send(peer);
      await connection.closed;
      assert.ok(connection.closeError instanceof RpcProtocolError, `closed with ${String(connection.closeError)}`);
      assert.match(connection.closeError.message, reason);
      const goaway = await peer.json(FrameType.GOAWAY, 'GOAWAY with the reason');
      assert.equal(goaway['code'], 'RPC_PROTOCOL');
      assert.match(String(goaway['message']), reason);
      await waitFor(() => connection.activeCallCount === 0, 'aborted handlers returned');
      await pair.close();
    });
  }

  test('garbage injected into a live connection fails its calls with RpcProtocolError', async () => {
    const setup = await startNetwork('memory');
    try {
      const started = once(setup.observed.events, 'wait-started');
      const waiting = setup.client.wait({ ms: 120_000 });
      await started;
      setup.pair.client.stream.write(Buffer.from('garbage garbage garbage'));
      await assert.rejects(waiting, (error: unknown) => {
        assert.ok(error instanceof RpcProtocolError, `got ${String(error)}`);
        assert.match(error.message, /peer closed the connection: frame with unsupported version/);
        return true;
      });
      await waitFor(() => setup.observed.waits.length === 1, 'the handler was aborted');
      assert.deepEqual(setup.observed.waits, ['RpcProtocolError']);
    } finally {
      await setup.close();
    }
  });
});
