/**
 * The endpoint calls pruning uses, on real zfs-fuse: listPruneTree says each snapshot's holds
 * and every job's cursor; destroySnapshots checks each snapshot again just before (a held one,
 * or one whose guid changed, stays), uses one `zfs destroy` per call where zfs takes no
 * `fs@a,b,c` lists, and refuses anything outside the served roots.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { localClient } from '../../../rpc/local.js';
import { endpointContract } from '../../../replication/contract.js';
import { createZfsEndpoint } from '../../../replication/endpoint/zfs-endpoint.js';
import { ZfsDriver } from '../../../replication/zfs/index.js';
import { createDataset, listSnapshots, snapshot, usePool, zfs } from '../../helpers/zfs-pool.js';
import { createZfsWrapper } from '../../helpers/zfs-wrappers.js';

describe('zfs endpoint: listPruneTree and destroySnapshots (real zfs)', () => {
  const one = usePool({ sizeMiB: 96 });
  const recording = createZfsWrapper('recording');
  after(() => recording.cleanup());
  const driver = new ZfsDriver({ zfsBin: recording.bin });
  const logger = pino({ level: 'silent' });

  test('lists snapshots with userrefs and the cursors of every job (own value and one stored as the parent’s)', async () => {
    const client = localClient(endpointContract, createZfsEndpoint({ driver, logger }));
    const root = await createDataset(one.pool.dataset('list'));
    const child = await createDataset(`${root}/child`);
    await snapshot(`${root}@s1`, { recursive: true });
    await snapshot(`${root}@s2`, { recursive: true });
    await zfs('hold', 'zferry_other_abc', `${root}@s1`);
    await zfs('set', 'zferry:cursor.zferry_other_abc=s1', root);
    await zfs('set', 'zferry:cursor.zferry_mine_def=s2', root);
    await zfs('set', 'zferry:cursor.zferry_mine_def=^', child);
    try {
      const listing = await client.listPruneTree({ root, recursive: true });
      assert.equal(listing.exists, true);
      const [top, below] = listing.filesystems;
      assert.equal(top?.name, root);
      assert.deepEqual(
        top?.snapshots.map((s) => [s.name, s.userrefs]),
        [
          ['s1', 1],
          ['s2', 0],
        ],
      );
      assert.deepEqual(
        top?.cursors.sort((a, b) => (a.tag < b.tag ? -1 : 1)),
        [
          { tag: 'zferry_mine_def', snapshot: 's2' },
          { tag: 'zferry_other_abc', snapshot: 's1' },
        ],
      );
      assert.equal(below?.name, child);
      // Only the child's own record (`^`: its parent's); the other tag is inherited there, which says nothing.
      assert.deepEqual(below?.cursors, [{ tag: 'zferry_mine_def', snapshot: 's2' }]);
      assert.deepEqual(await client.listPruneTree({ root: `${root}/missing`, recursive: false }), { exists: false, filesystems: [] });
    } finally {
      await zfs('release', 'zferry_other_abc', `${root}@s1`);
    }
  });

  test('destroys what still has its guid and no hold; a held snapshot and a replaced one stay', async () => {
    const client = localClient(endpointContract, createZfsEndpoint({ driver, logger }));
    const fs = await createDataset(one.pool.dataset('destroy'));
    for (const name of ['a', 'b', 'c', 'd']) await snapshot(`${fs}@${name}`);
    const guids = Object.fromEntries((await listSnapshots(fs)).map((s) => [s.name, s.guid]));
    // After the decision: b is held, c is replaced by another snapshot of the same name.
    await zfs('hold', 'someone', `${fs}@b`);
    await zfs('destroy', `${fs}@c`);
    await snapshot(`${fs}@c`);
    recording.clear();
    try {
      const answer = await client.destroySnapshots({
        filesystem: fs,
        snapshots: ['a', 'b', 'c', 'gone'].map((name) => ({ name, guid: guids[name] ?? '1' })),
      });
      assert.deepEqual(answer.destroyed.sort(), ['a', 'gone']);
      assert.deepEqual(
        answer.refused.map((r) => r.name),
        ['b', 'c'],
      );
      assert.match(answer.refused[0]?.reason ?? '', /held/);
      assert.deepEqual(
        (await listSnapshots(fs)).map((s) => s.name),
        ['b', 'd', 'c'],
      );
      const destroys = recording.invocations().filter((argv) => argv[0] === 'destroy');
      assert.deepEqual(destroys, [['destroy', `${fs}@a`]]);
    } finally {
      await zfs('release', 'someone', `${fs}@b`);
    }
  });

  test('one zfs destroy per snapshot where zfs takes no fs@a,b,c (zfs-fuse), every one gone', async () => {
    const client = localClient(endpointContract, createZfsEndpoint({ driver, logger }));
    const fs = await createDataset(one.pool.dataset('batch'));
    for (const name of ['p1', 'p2', 'p3']) await snapshot(`${fs}@${name}`);
    const snapshots = (await listSnapshots(fs)).map((s) => ({ name: s.name, guid: s.guid }));
    const batches = (await driver.capabilities(fs)).batchDestroy;
    recording.clear();
    await client.destroySnapshots({ filesystem: fs, snapshots });
    assert.deepEqual(await listSnapshots(fs), []);
    const destroys = recording.invocations().filter((argv) => argv[0] === 'destroy');
    assert.equal(destroys.length, batches ? 1 : 3);
  });

  test('refuses a filesystem outside the served roots, destroying nothing', async () => {
    const fs = await createDataset(one.pool.dataset('outside'));
    await snapshot(`${fs}@x`);
    const [x] = await listSnapshots(fs);
    const confined = localClient(endpointContract, createZfsEndpoint({ driver, logger, roots: [one.pool.dataset('elsewhere')] }));
    await assert.rejects(confined.destroySnapshots({ filesystem: fs, snapshots: [{ name: 'x', guid: x?.guid ?? '' }] }), (error: unknown) => {
      const { code, remoteCode } = error as { code?: string; remoteCode?: string };
      assert.equal(remoteCode ?? code, 'ENDPOINT_OUTSIDE_ROOT');
      return true;
    });
    await assert.rejects(confined.listPruneTree({ root: fs, recursive: true }));
    assert.equal((await listSnapshots(fs)).length, 1);
  });
});
