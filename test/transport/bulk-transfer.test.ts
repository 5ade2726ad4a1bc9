/**
 * 1 GiB each way through the RPC over TCP, a unix socket and a child's stdio pipes: content
 * verified by hash on both ends, and the receiving process's memory must stay bounded while
 * the data flows (flow control holds the sender back instead of buffering the stream).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { RpcServer, connect } from '../../rpc/index.js';
import type { Connector, Listener } from '../../transport/index.js';
import { childProcessConnector, listenTcp, listenUnix, tcpConnector, unixConnector } from '../../transport/index.js';
import { echoContract, echoImplementation } from '../fixtures/rpc-echo-contract.js';
import { fixtureCommand } from '../fixtures/rpc-fixture-command.js';
import { MemorySampler, PatternSource, hashStream } from '../fixtures/rpc-pattern.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
/** Generous: windows are a few MiB; without flow control the growth would be ~1 GiB. */
const MEMORY_BOUND = 300 * MIB;

function assertBounded(what: string, growth: { rssGrowth: number; arrayBuffersGrowth: number }): void {
  const mib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`;
  assert.ok(growth.rssGrowth < MEMORY_BOUND, `${what}: RSS grew by ${mib(growth.rssGrowth)}`);
  assert.ok(growth.arrayBuffersGrowth < MEMORY_BOUND, `${what}: ArrayBuffer memory grew by ${mib(growth.arrayBuffersGrowth)}`);
}

async function transferBothWays(connector: Connector, label: string): Promise<void> {
  const client = await connect(await connector.connect(), echoContract);
  try {
    const upload = new PatternSource(GIB, 1);
    const received = await client.sink({}, upload);
    assert.equal(received.bytes, GIB);
    assert.equal(received.sha256, upload.sha256(), `${label} upload: hashes differ`);
    assertBounded(`${label} upload (receiver)`, received);

    const memory = new MemorySampler();
    const id = `${label}-download`;
    const { stream } = await client.source({ id, bytes: GIB, seed: 2 });
    const downloaded = await hashStream(stream, memory.tick);
    const sent = await client.sourceDigest({ id });
    assert.equal(downloaded.bytes, GIB);
    assert.equal(downloaded.sha256, sent.sha256, `${label} download: hashes differ`);
    assertBounded(`${label} download (receiver)`, memory.peak());
  } finally {
    await client.close();
  }
}

describe('1 GiB streams each way', () => {
  const server = new RpcServer();
  server.register(echoContract, echoImplementation());
  const listeners: Listener[] = [];
  let dir = '';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-bulk-'));
  });
  after(async () => {
    await server.close();
    await Promise.all(listeners.map((listener) => listener.close()));
    await rm(dir, { recursive: true, force: true });
  });

  test('over tcp', async () => {
    const listener = await listenTcp({ host: '127.0.0.1', port: 0 }, (c) => void server.serve(c));
    listeners.push(listener);
    await transferBothWays(tcpConnector({ host: '127.0.0.1', port: listener.port }), 'tcp');
  });

  test('over a unix socket', async () => {
    const socketPath = path.join(dir, 'bulk.sock');
    listeners.push(await listenUnix({ path: socketPath }, (c) => void server.serve(c)));
    await transferBothWays(unixConnector({ path: socketPath }), 'unix');
  });

  test('over the stdio pipes of a child process', async () => {
    const { file, args } = fixtureCommand('rpc-echo-server', ['--stdio']);
    await transferBothWays(childProcessConnector({ file, args }), 'stdio');
  });
});
