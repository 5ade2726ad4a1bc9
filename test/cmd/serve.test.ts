/**
 * `zferry serve --stdio` as push/pull start it through ssh: speaks the endpoint contract on its
 * stdin/stdout and accepts replication-sized stream windows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REPLICATION_RPC_LIMITS } from '../../cmd/rpc-limits.js';
import { endpointContract } from '../../replication/contract.js';
import { connect } from '../../rpc/index.js';
import { spawnChildConnection } from '../../transport/child-process.js';
import { zferryArgv } from '../helpers/cli.js';

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
