/**
 * The ZFS endpoint on real zfs-fuse, where it says which pool a dataset is on and where zfs's
 * own words would mislead: a missing pool, a missing parent, a parent zfs created but could not
 * mount.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { localClient } from '../../../rpc/local.js';
import { endpointContract } from '../../../replication/contract.js';
import { createZfsEndpoint } from '../../../replication/endpoint/zfs-endpoint.js';
import { ZfsDriver } from '../../../replication/zfs/index.js';
import { createDataset, datasetExists, snapshot, usePool, writeFile, zfs, zpool } from '../../helpers/zfs-pool.js';
import { createZfsWrapper } from '../../helpers/zfs-wrappers.js';

/** A pool name no test creates (pool names begin with a letter). */
const MISSING_POOL = `nopool${process.pid}x${randomBytes(3).toString('hex')}`;

const poolGuid = async (pool: string): Promise<string> => (await zpool('list', '-H', '-o', 'guid', pool)).trim();

/** An error with this code (also when it travelled as an RPC error's remote code) and message. */
function failsWith(code: string, message: RegExp) {
  return (error: unknown): boolean => {
    const { code: own, remoteCode } = error as { code?: string; remoteCode?: string };
    assert.equal(remoteCode ?? own, code, String(error));
    assert.match((error as Error).message, message);
    return true;
  };
}

describe('zfs endpoint: pool identity and clear failures (real zfs)', () => {
  const one = usePool({ sizeMiB: 96 });
  const two = usePool({ sizeMiB: 96 });
  const recording = createZfsWrapper('recording');
  after(() => recording.cleanup());
  const driver = new ZfsDriver({ zfsBin: recording.bin });
  const client = localClient(endpointContract, createZfsEndpoint({ driver, logger: pino({ level: 'silent' }) }));

  test("poolIdentity answers the pool's guid for any dataset on it, and null for a pool that does not exist", async () => {
    await createDataset(one.pool.dataset('a'));
    const guidOne = await poolGuid(one.pool.name);
    assert.deepEqual(await client.poolIdentity({ filesystem: one.pool.name }), { guid: guidOne });
    assert.deepEqual(await client.poolIdentity({ filesystem: one.pool.dataset('a') }), { guid: guidOne });
    // A dataset not created yet is still on that pool.
    assert.deepEqual(await client.poolIdentity({ filesystem: one.pool.dataset('not/yet') }), { guid: guidOne });
    assert.deepEqual(await client.poolIdentity({ filesystem: two.pool.dataset('a') }), { guid: await poolGuid(two.pool.name) });
    assert.notEqual(guidOne, await poolGuid(two.pool.name));
    assert.deepEqual(await client.poolIdentity({ filesystem: `${MISSING_POOL}/a` }), { guid: null });
  });

  test('ensureParent on a pool that does not exist says so, and creates nothing', async () => {
    recording.clear();
    await assert.rejects(
      client.ensureParent({ filesystem: `${MISSING_POOL}/backup/a` }),
      failsWith('ENDPOINT_POOL_NOT_FOUND', new RegExp(`^pool '${MISSING_POOL}' does not exist \\(target ${MISSING_POOL}/backup/a\\)$`)),
    );
    assert.deepEqual(
      recording.invocations().filter((argv) => argv[0] === 'create'),
      [],
      'no zfs create ran',
    );
  });

  test('ensureParent below a read-only filesystem: zfs create exits 1 (mountpoint), but the parent is there and counts as created', async () => {
    const readOnly = one.pool.dataset('ro');
    await createDataset(readOnly, { properties: { readonly: 'on' } });
    const result = await client.ensureParent({ filesystem: `${readOnly}/p/q/target` });
    assert.deepEqual(result, { created: [`${readOnly}/p`, `${readOnly}/p/q`] });
    assert.ok(await datasetExists(`${readOnly}/p/q`));
    // What zfs said: not a success, although the filesystem exists.
    const creates = recording.invocations().filter((argv) => argv[0] === 'create');
    assert.deepEqual(creates, [
      ['create', `${readOnly}/p`],
      ['create', `${readOnly}/p/q`],
    ]);
  });

  test('a full receive whose parent is missing names the parent, not the target, as missing', async () => {
    const source = await createDataset(one.pool.dataset('src'));
    await writeFile(source, 'file', 'data\n');
    const guid = await snapshot(`${source}@s1`);
    const target = one.pool.dataset('missing/parent/target');
    const { stream } = await client.send({ snapshot: `${source}@s1`, intermediates: false });
    await assert.rejects(
      client.receive({ target, snapshotName: 's1', expectedGuid: guid, force: false, resumable: false, targetChecked: true }, stream),
      failsWith('ENDPOINT_PARENT_NOT_FOUND', new RegExp(`^cannot receive ${target}: its parent ${one.pool.dataset('missing/parent')} does not exist$`)),
    );
    assert.equal(await datasetExists(one.pool.dataset('missing')), false);
  });

  test('a receive into a pool that does not exist (or into its root) says the pool is missing', async () => {
    const source = one.pool.dataset('src');
    const guid = (await zfs('get', '-H', '-p', '-o', 'value', 'guid', `${source}@s1`)).trim();
    const cases = [
      [`${MISSING_POOL}/a`, 'ENDPOINT_POOL_NOT_FOUND', `^pool '${MISSING_POOL}' does not exist \\(target ${MISSING_POOL}/a\\)$`],
      [MISSING_POOL, 'ZFS_DATASET_NOT_FOUND', `^pool '${MISSING_POOL}' does not exist$`],
    ] as const;
    for (const [target, code, message] of cases) {
      const { stream } = await client.send({ snapshot: `${source}@s1`, intermediates: false });
      await assert.rejects(
        client.receive({ target, snapshotName: 's1', expectedGuid: guid, force: false, resumable: false, targetChecked: true }, stream),
        failsWith(code, new RegExp(message)),
      );
    }
  });
});
