import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { ReadArena, arenaOnRead, startArenaReads } from '../../transport/arena-reader.js';
import { listenTcp, tcpConnector } from '../../transport/index.js';
import { acceptQueue, readAll, writeAll } from '../fixtures/rpc-transport-check.js';
import { waitFor } from '../helpers/rpc-util.js';

/**
 * Polls `sample` until it has returned the same value for `quietMs`: what it observes stopped
 * moving. The bound only keeps a broken test from hanging.
 */
async function untilSteady(sample: () => string, what: string, quietMs = 200, boundMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + boundMs;
  let last = sample();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what} to stop moving (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const now = sample();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

describe('read arena', () => {
  test('views stay intact across arena boundaries: no region is handed out twice', () => {
    const arena = new ReadArena(1000, 300);
    const source = randomBytes(10_000);
    const views: Buffer[] = [];
    let at = 0;
    // Reads of assorted sizes, as a socket would make them.
    for (const size of [1, 299, 300, 400, 5, 700, 1000, 17, 283, 999, 1, 2000]) {
      const slice = arena.next();
      assert.ok(slice.length >= 300, 'every read gets at least the minimum room');
      const n = Math.min(size, slice.length, source.length - at);
      source.copy(slice, 0, at, at + n);
      views.push(arena.commit(slice, n));
      at += n;
    }
    assert.ok(arena.arenasAllocated > 1, 'the reads crossed arena boundaries');
    assert.ok(Buffer.concat(views).equals(source.subarray(0, at)), 'every byte is where it was read');
  });

  test('rejects a minimum read larger than the arena or than the maximum', () => {
    assert.throws(() => new ReadArena(1024, 2048), RangeError);
    assert.throws(() => new ReadArena(4096, 2048, 1024), RangeError);
  });

  test('a read gets at most maxReadBytes of room, and consecutive reads share the arena', () => {
    const arena = new ReadArena(1024 * 1024, 64 * 1024, 64 * 1024);
    for (let i = 0; i < 16; i++) {
      const slice = arena.next();
      assert.equal(slice.length, 64 * 1024);
      arena.commit(slice, slice.length);
    }
    assert.equal(arena.arenasAllocated, 1, 'sixteen full reads fit one 1 MiB arena');
    arena.commit(arena.next(), 1);
    assert.equal(arena.arenasAllocated, 2);
    assert.equal(new ReadArena(1024 * 1024).next().length, 1024 * 1024, 'by default a read may fill the arena');
  });
});

describe('arena reads on sockets', () => {
  test('an accepted socket reads into arenas and delivers the bytes exactly, both ways', async () => {
    const server = net.createServer({ pauseOnConnect: true });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    try {
      const accepted = once(server, 'connection') as Promise<[net.Socket]>;
      const client: net.Socket = net.connect({ port, host: '127.0.0.1', onread: arenaOnRead(() => client) });
      await once(client, 'connect');
      const [socket] = await accepted;
      assert.equal(startArenaReads(socket, new ReadArena(256 * 1024, 16 * 1024)), true, 'this node version lets us install arena reads');
      const up = randomBytes(3 * 1024 * 1024 + 7);
      const down = randomBytes(2 * 1024 * 1024 + 3);
      const [gotUp, gotDown] = await Promise.all([readAll(socket), readAll(client), writeAll(client, up), writeAll(socket, down)]);
      assert.ok(gotUp.equals(up), 'accepted side received every byte in order');
      assert.ok(gotDown.equals(down), 'connecting side received every byte in order');
      client.destroy();
      socket.destroy();
    } finally {
      server.close();
    }
  });

  test('a consumer that does not read stops the socket (backpressure), and reading resumes', async () => {
    const queue = acceptQueue();
    const listener = await listenTcp({ host: '127.0.0.1', port: 0 }, queue.onConnection);
    try {
      const client = await tcpConnector({ host: '127.0.0.1', port: listener.port }).connect();
      const server = await queue.next();
      const sent = randomBytes(64 * 1024 * 1024);
      const writing = writeAll(client.stream, sent);
      // Nobody reads on the server side: its socket buffer fills to the high-water mark, the
      // arena reader stops reading, and the kernel buffers fill until the writer must wait.
      // Wait for that standstill; a reader that never stops would hold all 64 MiB by then.
      const socket = server.stream as net.Socket;
      await untilSteady(() => `${socket.readableLength} ${client.stream.writableLength}`, 'the transfer');
      assert.ok(socket.readableLength > 0, 'bytes arrived');
      assert.ok(socket.readableLength <= socket.readableHighWaterMark + 1024 * 1024, `read side holds ${socket.readableLength} bytes: reading stopped`);
      assert.ok(client.stream.writableLength > 0, 'the writer is held back');
      const [received] = await Promise.all([readAll(server.stream), writing]);
      assert.ok(received.equals(sent), 'every byte arrived once reading resumed');
      client.close();
      server.close();
    } finally {
      await listener.close();
    }
  });

  test('bytes that arrive before anyone listens wait in the socket', async () => {
    const queue = acceptQueue();
    const listener = await listenTcp({ host: '127.0.0.1', port: 0 }, queue.onConnection);
    try {
      const client = await tcpConnector({ host: '127.0.0.1', port: listener.port }).connect();
      client.stream.end(Buffer.from('early bytes'));
      const server = await queue.next();
      // Every byte has arrived, and waits, before anyone reads.
      await waitFor(() => server.stream.readableLength === 'early bytes'.length, 'the early bytes to arrive');
      const received = await readAll(server.stream);
      assert.equal(received.toString(), 'early bytes');
      client.close();
      server.close();
    } finally {
      await listener.close();
    }
  });
});
