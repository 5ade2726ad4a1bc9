/**
 * Placeholders on a served sink (real zfs-fuse): missing parents of a client's target are created
 * unmountable and marked, a later real receive of such a parent replaces it, and one with
 * something real below it is left alone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { localClient } from '../../../rpc/local.js';
import { endpointContract } from '../../../replication/contract.js';
import { PLACEHOLDER_PROPERTY } from '../../../replication/endpoint/placeholder.js';
import { createZfsEndpoint } from '../../../replication/endpoint/zfs-endpoint.js';
import { ZfsDriver } from '../../../replication/zfs/index.js';
import { createDataset, listSnapshots, snapshot, usePool, zfs } from '../../helpers/zfs-pool.js';

/** property → `value source` of a dataset. */
async function properties(name: string, props: string[]): Promise<Record<string, string>> {
  const rows = (await zfs('get', '-H', '-o', 'property,value,source', props.join(','), name)).split('\n').filter(Boolean);
  return Object.fromEntries(rows.map((row) => row.split('\t')).map(([property = '', value = '', source = '']) => [property, `${value} ${source}`]));
}

describe('placeholders on a sink confined to root_fs/<identity> (real zfs)', () => {
  const ctx = usePool({ sizeMiB: 128 });
  const logger = pino({ level: 'silent' });
  const driver = new ZfsDriver({ logger });
  const source = localClient(endpointContract, createZfsEndpoint({ driver, logger }));
  const sinkFor = (root: string) => localClient(endpointContract, createZfsEndpoint({ driver, logger, roots: [root], identity: 'laptop' }));

  /** A full receive of `snapshotName` of `from` into `target`, as a job plans it onto an existing target without snapshots. */
  async function receiveFull(sink: ReturnType<typeof sinkFor>, from: string, target: string, snapshotName: string): Promise<string> {
    const guid = (await listSnapshots(from)).find((s) => s.name === snapshotName)?.guid ?? '';
    const { stream } = await source.send({ snapshot: `${from}@${snapshotName}`, intermediates: false });
    await sink.receive({ target, snapshotName, expectedGuid: guid, force: true, resumable: false }, stream);
    return guid;
  }

  test('missing parents are created as placeholders: not mountable, marked, and listed like any filesystem', async () => {
    const root = await createDataset(ctx.pool.dataset('one'), { properties: { mountpoint: 'none' } });
    const sink = sinkFor(`${root}/laptop`);
    const { created } = await sink.ensureParent({ filesystem: `${root}/laptop/tank/home/x` });
    assert.deepEqual(created, [`${root}/laptop`, `${root}/laptop/tank`, `${root}/laptop/tank/home`]);
    for (const name of created) {
      assert.deepEqual(await properties(name, ['mountpoint', 'canmount', PLACEHOLDER_PROPERTY]), {
        mountpoint: 'none local',
        canmount: 'off local',
        [PLACEHOLDER_PROPERTY]: 'on local',
      });
    }
  });

  test('an unconfined endpoint (a local job) still creates plain parents', async () => {
    const root = await createDataset(ctx.pool.dataset('plain'));
    await source.ensureParent({ filesystem: `${root}/p/x` });
    assert.equal((await properties(`${root}/p`, [PLACEHOLDER_PROPERTY]))[PLACEHOLDER_PROPERTY], '- -');
  });

  test('a real receive onto a placeholder (placeholders below it) replaces it; its children stay; it is no longer marked', async () => {
    const root = await createDataset(ctx.pool.dataset('two'), { properties: { mountpoint: 'none' } });
    const from = await createDataset(ctx.pool.dataset('src2'));
    await snapshot(`${from}@s1`);
    const sink = sinkFor(`${root}/laptop`);
    await sink.ensureParent({ filesystem: `${root}/laptop/tank/home/deep/x` });
    const target = `${root}/laptop/tank/home`;
    const guid = await receiveFull(sink, from, target, 's1');
    assert.deepEqual(
      (await listSnapshots(target)).map((s) => s.guid),
      [guid],
    );
    assert.equal((await properties(target, [PLACEHOLDER_PROPERTY]))[PLACEHOLDER_PROPERTY]?.endsWith('local'), false, 'the marker is gone from the real one');
    assert.equal((await properties(`${target}/deep`, [PLACEHOLDER_PROPERTY]))[PLACEHOLDER_PROPERTY], 'on local', 'the child placeholder stays');
  });

  test('a placeholder with something real below it is not received over, nor one with an unmarked filesystem below', async () => {
    const root = await createDataset(ctx.pool.dataset('three'), { properties: { mountpoint: 'none' } });
    const from = await createDataset(ctx.pool.dataset('src3'));
    await snapshot(`${from}@s1`);
    const sink = sinkFor(`${root}/laptop`);
    await sink.ensureParent({ filesystem: `${root}/laptop/tank/home/x` });
    const target = `${root}/laptop/tank/home`;
    // A child received for real below the placeholder.
    await receiveFull(sink, from, `${target}/x`, 's1');
    const before = await zfs('get', '-H', '-p', '-r', '-o', 'name,property,value', 'guid', target);
    await assert.rejects(receiveFull(sink, from, target, 's1'), (error: { remoteCode?: string; code?: string; message: string }) => {
      assert.equal(error.remoteCode ?? error.code, 'ENDPOINT_TARGET_NOT_EMPTY');
      assert.match(error.message, /is a placeholder, but .*home\/x below it is not a placeholder/);
      return true;
    });
    // A placeholder child that is not marked (a filesystem made by hand) counts as real too.
    await createDataset(`${root}/laptop/tank/other`, { properties: { mountpoint: 'none', canmount: 'off', [PLACEHOLDER_PROPERTY]: 'on' } });
    await createDataset(`${root}/laptop/tank/other/byhand`, { properties: { [PLACEHOLDER_PROPERTY]: 'off' } });
    await assert.rejects(receiveFull(sink, from, `${root}/laptop/tank/other`, 's1'), /byhand below it is not a placeholder/);
    assert.equal(await zfs('get', '-H', '-p', '-r', '-o', 'name,property,value', 'guid', target), before, 'nothing changed');
  });
});
