/**
 * `zferry serve --stdio` as push/pull start it through ssh: speaks the endpoint contract on its
 * stdin/stdout, accepts replication-sized stream windows, and exits once the connection is
 * closed by a GOAWAY exchange.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { REPLICATION_RPC_LIMITS } from '../../cmd/rpc-limits.js';
import { endpointContract } from '../../replication/contract.js';
import { connect } from '../../rpc/index.js';
import { spawnChildConnection } from '../../rpc/transport/child-process.js';
import { FrameFlag, FrameType } from '../../rpc/frame.js';
import { zferryArgv } from '../helpers/cli.js';
import { RawPeer } from '../helpers/rpc-raw-peer.js';
import { waitFor } from '../helpers/rpc-util.js';

test('serve --stdio announces the replication stream window and answers calls', async () => {
  const transport = spawnChildConnection({ file: process.execPath, args: zferryArgv(['serve', '--stdio']), peer: { transport: 'pipe', name: 'zferry serve' } });
  const client = await connect(transport, endpointContract, { limits: REPLICATION_RPC_LIMITS });
  try {
    // One stream window per round trip: 2 MiB would cap a replication at ~40 MiB/s over 50 ms.
    assert.equal(client.connection.peerHello?.limits.streamWindow, REPLICATION_RPC_LIMITS.streamWindow);
    assert.ok((REPLICATION_RPC_LIMITS.streamWindow ?? 0) >= 16 * 1024 * 1024);
    // A dataset that cannot exist: a clean answer, not a broken connection.
    const answer = await client.listVersionTree({ root: 'zferry-no-such-pool/x', recursive: false });
    assert.equal(answer.exists, false);
  } finally {
    await client.close();
  }
});

test('serve --stdio ends stdout and exits 0 once both sides said goodbye, though its stdin stays open', async () => {
  const child = spawn(process.execPath, zferryArgv(['serve', '--stdio']), { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ZFERRY_LOG_LEVEL: 'warn' } });
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  try {
    const peer = new RawPeer(Duplex.from({ readable: child.stdout, writable: child.stdin }));
    peer.sendHello({ role: 'initiator' });
    await peer.nextFrame((f) => f.type === FrameType.HELLO, 'the server HELLO');
    peer.sendJson(FrameType.GOAWAY, 0, 0, { lastStreamId: 0, code: 'RPC_GOAWAY', message: 'closing' });
    const ack = await peer.nextFrame((f) => f.type === FrameType.GOAWAY, 'the GOAWAY+ACK');
    assert.equal(ack.flags, FrameFlag.ACK);
    const acknowledgedAt = performance.now();
    const [code, signal] = await exited;
    // Before, the server waited for stdin to end or for a 10 s timer; margin for a busy machine.
    const afterAckMs = performance.now() - acknowledgedAt;
    assert.deepEqual([code, signal], [0, null]);
    assert.ok(afterAckMs < 5000, `exited ${afterAckMs.toFixed(0)} ms after the GOAWAY exchange`);
    await waitFor(() => peer.ended, 'stdout ended');
    assert.equal(child.stdin.writableEnded, false, 'the peer kept stdin open');
  } finally {
    child.kill();
  }
});
