/**
 * `zferry serve --stdio` as push/pull start it through ssh: speaks the endpoint contract on its
 * stdin/stdout, accepts replication-sized stream windows, and exits once the connection is
 * closed by a GOAWAY exchange.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { before, describe, test } from 'node:test';
import { REPLICATION_RPC_LIMITS } from '../../replication/endpoint/rpc-limits.js';
import { endpointContract, type EndpointContract } from '../../replication/contract.js';
import { FrameFlag, FrameType } from '../../rpc/frame.js';
import { RpcRemoteError, RpcStreamSourceError, connect, type Client } from '../../rpc/index.js';
import { spawnChildConnection } from '../../transport/child-process.js';
import { zferryArgv } from '../helpers/cli.js';
import { encodeResumeToken, fullSendPairs } from '../helpers/resume-token-encoder.js';
import { RawPeer } from '../helpers/rpc-raw-peer.js';
import { waitFor } from '../helpers/rpc-util.js';
import { repositoryRoot } from '../helpers/rpc-wire.js';
import { createDataset, snapshot, usePool } from '../helpers/zfs-pool.js';

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
    // Unconfined without --root, and no identity: the session says so.
    assert.deepEqual(await client.session({}), { roots: [] });
  } finally {
    await client.close();
  }
});

/**
 * `serve --root` confines a resumed send too: `zfs send -t` sends what the token names, so the
 * token is decoded and checked before zfs sees it. Genuine OpenZFS tokens name pools of other
 * machines; tokens naming this machine's throwaway pool come from the test encoder.
 */
describe('serve --root: resume tokens', () => {
  const ctx = usePool({ sizeMiB: 128 });
  const genuine = JSON.parse(readFileSync(path.join(repositoryRoot(), 'test', 'fixtures', 'zfs', 'openzfs', 'resume-tokens.json'), 'utf8')) as {
    tokens: Array<{ token: string; toname: string }>;
    corrupt: Array<{ token: string }>;
  };
  let allowed: string;
  let allowedGuid: string;
  let childGuid: string;
  let outsideGuid: string;

  before(async () => {
    allowed = await createDataset(ctx.pool.dataset('allowed'));
    allowedGuid = await snapshot(`${allowed}@s1`);
    await createDataset(`${allowed}/child`);
    childGuid = await snapshot(`${allowed}/child@s1`);
    const outside = await createDataset(ctx.pool.dataset('outside'));
    outsideGuid = await snapshot(`${outside}@s1`);
  });

  async function serve(args: string[]): Promise<Client<EndpointContract> & { close(): Promise<void> }> {
    const transport = spawnChildConnection({
      file: process.execPath,
      args: zferryArgv(['serve', '--stdio', ...args]),
      peer: { transport: 'pipe', name: 'zferry serve' },
    });
    return connect(transport, endpointContract, { limits: REPLICATION_RPC_LIMITS });
  }

  async function refusedWith(client: Client<EndpointContract>, resumeToken: string, remoteCode: string, message: RegExp): Promise<void> {
    await assert.rejects(client.send({ snapshot: `${allowed}@s1`, intermediates: false, resumeToken }), (error: unknown) => {
      assert.ok(error instanceof RpcRemoteError, String(error));
      assert.equal(error.remoteCode, remoteCode, error.message);
      assert.match(error.message, message);
      assert.ok(endpointContract.endpoints.send.errors.includes(remoteCode), `${remoteCode} is declared for send`);
      return true;
    });
  }

  test('a genuine token of a dataset outside the root, a token of another dataset, an unreadable token: refused', async () => {
    const client = await serve(['--root', allowed]);
    try {
      assert.deepEqual(await client.session({}), { roots: [allowed] }, 'the session names the --root list');
      const foreign = genuine.tokens[0] as { token: string; toname: string };
      await refusedWith(client, foreign.token, 'ENDPOINT_OUTSIDE_ROOT', new RegExp(`resume token names ${foreign.toname.split('@')[0]}`));
      await refusedWith(client, encodeResumeToken(fullSendPairs(`${ctx.pool.dataset('outside')}@s1`, outsideGuid)), 'ENDPOINT_OUTSIDE_ROOT', /outside/);
      await refusedWith(client, encodeResumeToken(fullSendPairs(`${allowed}/child@s1`, childGuid)), 'ENDPOINT_RESUME_TOKEN_MISMATCH', /resumes .*child@s1/);
      await refusedWith(client, (genuine.corrupt[0] as { token: string }).token, 'ENDPOINT_RESUME_TOKEN_UNREADABLE', /checksum mismatch/);
      await refusedWith(client, '1-0-10-00', 'ENDPOINT_RESUME_TOKEN_UNREADABLE', /cannot be decoded/);
    } finally {
      await client.close();
    }
  });

  test('a token pairing the requested name with the guid of a snapshot outside the root: refused', async () => {
    const client = await serve(['--root', allowed]);
    try {
      await refusedWith(
        client,
        encodeResumeToken(fullSendPairs(`${allowed}@s1`, outsideGuid)),
        'ENDPOINT_RESUME_TOKEN_MISMATCH',
        new RegExp(`guid ${outsideGuid}`),
      );
    } finally {
      await client.close();
    }
  });

  test('the requested snapshot with its own guid passes to zfs send -t (which zfs-fuse lacks)', async () => {
    const client = await serve(['--root', allowed]);
    try {
      const { stream } = await client.send({
        snapshot: `${allowed}@s1`,
        intermediates: false,
        resumeToken: encodeResumeToken(fullSendPairs(`${allowed}@s1`, allowedGuid)),
      });
      await assert.rejects(stream.toArray(), (error: unknown) => error instanceof RpcStreamSourceError && /zfs send -t/.test(error.message));
    } finally {
      await client.close();
    }
  });

  test('without --root a token must still name the requested snapshot', async () => {
    const client = await serve([]);
    try {
      await refusedWith(client, (genuine.tokens[0] as { token: string }).token, 'ENDPOINT_RESUME_TOKEN_MISMATCH', /it resumes zroot\/test\/a@1/);
    } finally {
      await client.close();
    }
  });
});

test('serve --stdio ends stdout and exits 0 once both sides said goodbye, though its stdin stays open', async () => {
  const child = spawn(process.execPath, zferryArgv(['serve', '--stdio']), {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ZFERRY_LOG_LEVEL: 'warn' },
  });
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
