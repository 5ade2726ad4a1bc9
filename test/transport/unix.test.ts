import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { TransportError, listenUnix, unixConnector } from '../../transport/index.js';
import { acceptQueue, exchangeBytes } from '../fixtures/rpc-transport-check.js';

const LISTEN_AND_REPORT = "require('net').createServer().listen(process.argv[1], () => process.stdout.write('ready'))";

describe('unix socket transport', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-unix-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('carries bytes both ways; the peer is the socket path; close removes the socket', async () => {
    const socketPath = path.join(dir, 'bytes.sock');
    const queue = acceptQueue();
    const listener = await listenUnix({ path: socketPath, mode: 0o600 }, queue.onConnection);
    try {
      assert.equal(listener.address, socketPath);
      assert.equal((await stat(socketPath)).mode & 0o777, 0o600);
      const client = await unixConnector({ path: socketPath }).connect();
      const server = await queue.next();
      assert.deepEqual([client.peer.transport, client.peer.name], ['unix', socketPath]);
      assert.deepEqual([server.peer.transport, server.peer.name], ['unix', socketPath]);
      const { aSent, bSent, aReceived, bReceived } = await exchangeBytes(client.stream, server.stream, 2 * 1024 * 1024 + 5);
      assert.ok(aSent.equals(bReceived));
      assert.ok(bSent.equals(aReceived));
      client.close();
      server.close();
    } finally {
      await listener.close();
    }
    await assert.rejects(stat(socketPath), { code: 'ENOENT' });
  });

  test('a stale socket file left by a dead server is replaced', async () => {
    const socketPath = path.join(dir, 'stale.sock');
    // A server killed with SIGKILL leaves its socket file behind.
    const crashed = spawn(process.execPath, ['-e', LISTEN_AND_REPORT, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(crashed.stdout, 'data');
    crashed.kill('SIGKILL');
    await once(crashed, 'exit');
    assert.ok((await stat(socketPath)).isSocket(), 'the stale socket file exists');
    const queue = acceptQueue();
    const listener = await listenUnix({ path: socketPath }, queue.onConnection);
    try {
      const client = await unixConnector({ path: socketPath }).connect();
      await queue.next();
      client.close();
    } finally {
      await listener.close();
    }
  });

  test('refuses to take the path of a live server or of a regular file', async () => {
    const livePath = path.join(dir, 'live.sock');
    const listener = await listenUnix({ path: livePath }, () => {});
    try {
      await assert.rejects(
        listenUnix({ path: livePath }, () => {}),
        (err: unknown) => {
          assert.ok(err instanceof TransportError);
          assert.equal(err.code, 'LISTEN_FAILED');
          assert.match(err.message, /another server is accepting connections/);
          return true;
        },
      );
    } finally {
      await listener.close();
    }
    const filePath = path.join(dir, 'not-a-socket');
    await writeFile(filePath, 'precious');
    await assert.rejects(
      listenUnix({ path: filePath }, () => {}),
      /exists and is not a socket/,
    );
    assert.ok((await stat(filePath)).isFile(), 'the regular file is untouched');
  });

  test('connect errors say what is wrong; over-long paths are refused up front', async () => {
    await assert.rejects(unixConnector({ path: path.join(dir, 'missing.sock') }).connect(), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'CONNECT_FAILED');
      assert.match(err.message, /missing\.sock.*ENOENT/);
      return true;
    });
    assert.throws(() => unixConnector({ path: path.join(dir, 'x'.repeat(120)) }), { code: 'INVALID_ARGUMENT' });
  });
});
