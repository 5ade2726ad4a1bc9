/**
 * The error codes the contract declares per endpoint (and docs/endpoints.md lists) are the
 * ones its handlers really fail with: real failures on a real pool, each checked against the
 * declaration of the endpoint that raised it.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { before, describe, test } from 'node:test';
import pino from 'pino';
import { endpointContract, type EndpointContract } from '../../../replication/contract.js';
import { createZfsEndpoint } from '../../../replication/endpoint/zfs-endpoint.js';
import { ZfsDriver } from '../../../replication/zfs/index.js';
import { RpcRemoteError, localClient, type Client } from '../../../rpc/index.js';
import { createDataset, snapshot, usePool } from '../../helpers/zfs-pool.js';

type EndpointName = keyof EndpointContract['endpoints'];

async function failsWithDeclared(name: EndpointName, call: Promise<unknown>, expected?: string): Promise<void> {
  await assert.rejects(
    call,
    (error: unknown) => {
      assert.ok(error instanceof RpcRemoteError, `${name}: ${String(error)}`);
      const code = error.remoteCode ?? '(none)';
      assert.ok(endpointContract.endpoints[name].errors.includes(code), `${name} failed with ${code}, which its contract does not declare: ${error.message}`);
      if (expected !== undefined) assert.equal(code, expected, error.message);
      return true;
    },
    `${name} should fail${expected === undefined ? '' : ` with ${expected}`}`,
  );
}

describe('declared endpoint errors (real zfs)', () => {
  const ctx = usePool({ sizeMiB: 128 });
  const logger = pino({ level: 'silent' });
  const driver = new ZfsDriver({ logger });
  let open: Client<EndpointContract>;
  let confined: Client<EndpointContract>;
  let fs: string;
  let outside: string;

  before(async () => {
    fs = await createDataset(ctx.pool.dataset('a'));
    await snapshot(`${fs}@s1`);
    await createDataset(`${fs}/c1`);
    await createDataset(`${fs}/c2`);
    outside = await createDataset(ctx.pool.dataset('b'));
    await snapshot(`${outside}@s1`);
    open = localClient(endpointContract, createZfsEndpoint({ driver, logger }));
    confined = localClient(endpointContract, createZfsEndpoint({ driver, logger, roots: [fs] }));
  });

  test('every endpoint refuses a dataset outside the served roots', async () => {
    const out = `${outside}@s1`;
    const calls: Array<[EndpointName, Promise<unknown>]> = [
      ['listVersionTree', confined.listVersionTree({ root: outside, recursive: true })],
      ['abortPartialReceive', confined.abortPartialReceive({ filesystem: outside })],
      ['poolIdentity', confined.poolIdentity({ filesystem: outside })],
      ['listVersions', confined.listVersions({ filesystem: outside })],
      ['snapshot', confined.snapshot({ snapshots: [`${outside}@new`], recursive: false })],
      ['estimateSend', confined.estimateSend({ snapshot: out, intermediates: false })],
      ['send', confined.send({ snapshot: out, intermediates: false })],
      ['receive', confined.receive({ target: `${outside}/x`, snapshotName: 's1', expectedGuid: '1', force: false, resumable: false }, Readable.from([]))],
      ['verifyReceived', confined.verifyReceived({ snapshots: [out] })],
      ['rollback', confined.rollback({ snapshot: out, expectedGuid: '1' })],
      ['rename', confined.rename({ from: `${fs}/c1`, to: `${outside}/c1` })],
      ['ensureParent', confined.ensureParent({ filesystem: `${outside}/x/y` })],
      ['moveCursors', confined.moveCursors({ tag: 'zferry_t', moves: [{ filesystem: outside, snapshot: 's1' }] })],
      ['listPruneTree', confined.listPruneTree({ root: outside, recursive: true })],
      ['destroySnapshots', confined.destroySnapshots({ filesystem: outside, snapshots: [{ name: 's1', guid: '1' }] })],
    ];
    // `session` names no dataset: it says which ones are served.
    assert.deepEqual(await confined.session({}), { roots: [fs] });
    const naming = Object.keys(endpointContract.endpoints).filter((name) => name !== 'session');
    assert.deepEqual(calls.map(([name]) => name).sort(), naming.sort(), 'every endpoint that names a dataset is tried');
    for (const [name, call] of calls) await failsWithDeclared(name, call, 'ENDPOINT_OUTSIDE_ROOT');
  });

  test("zfs failures and the endpoints' own refusals", async () => {
    await failsWithDeclared('snapshot', open.snapshot({ snapshots: [`${fs}@s1`], recursive: false }), 'ZFS_DESTINATION_EXISTS');
    await failsWithDeclared('snapshot', open.snapshot({ snapshots: [`${fs}/missing@s1`], recursive: false }), 'ZFS_DATASET_NOT_FOUND');
    await failsWithDeclared('estimateSend', open.estimateSend({ snapshot: `${fs}@nope`, intermediates: false }), 'ZFS_DATASET_NOT_FOUND');
    await failsWithDeclared('rollback', open.rollback({ snapshot: `${fs}@s1`, expectedGuid: '1' }), 'ENDPOINT_ROLLBACK_MISMATCH');
    await failsWithDeclared('rollback', open.rollback({ snapshot: `${fs}/missing@s1`, expectedGuid: '1' }), 'ZFS_DATASET_NOT_FOUND');
    await failsWithDeclared('rename', open.rename({ from: `${fs}/c1`, to: `${fs}/c2` }), 'ZFS_DESTINATION_EXISTS');
    await failsWithDeclared('rename', open.rename({ from: `${fs}/missing`, to: `${fs}/c3` }), 'ZFS_DATASET_NOT_FOUND');
    await failsWithDeclared('ensureParent', open.ensureParent({ filesystem: 'zferry-no-such-pool/x/y' }));
    await failsWithDeclared(
      'receive',
      open.receive(
        { target: `${fs}/garbage`, snapshotName: 's1', expectedGuid: '1', force: false, resumable: true },
        Readable.from([Buffer.alloc(64 * 1024, 7)]),
      ),
    );
    await failsWithDeclared(
      'receive',
      open.receive({ target: fs, snapshotName: 's2', expectedGuid: '2', incrementalBase: { guid: '1' }, force: false, resumable: true }, Readable.from([])),
      'ZFS_INCREMENTAL_SOURCE_MISSING',
    );
    await failsWithDeclared(
      'moveCursors',
      open.moveCursors({ tag: 'zferry_t', root: `${fs}/c1`, moves: [{ filesystem: outside, snapshot: 's1' }] }),
      'ENDPOINT_CURSOR_OUTSIDE_TREE',
    );
    await failsWithDeclared('moveCursors', open.moveCursors({ tag: 'zferry_t', moves: [{ filesystem: fs, snapshot: 'nope' }] }));
  });
});
