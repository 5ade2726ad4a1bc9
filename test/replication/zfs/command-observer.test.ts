/**
 * The driver's command observer on real zfs: each command it runs is told once it ended, by
 * subcommand (`receive` as `recv`, zpool's as `zpool …`), with its duration and success; a
 * failed command is told as failed, and an observer that throws breaks nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subcommandOf } from '../../../replication/zfs/command-observer.js';
import { ZfsDriver, type ZfsCommandInfo } from '../../../replication/zfs/index.js';
import { createDataset, getProperty, usePool } from '../../helpers/zfs-pool.js';

describe('the zfs command observer', () => {
  const ctx = usePool();

  test('snapshot, send and receive, a listing and a failure are each told', async () => {
    const told: ZfsCommandInfo[] = [];
    const driver = new ZfsDriver({ onCommand: (info) => told.push(info) });
    const fs = await createDataset(ctx.pool.dataset('observed'));
    const parent = await createDataset(ctx.pool.dataset('into'), { properties: { mountpoint: 'none' } });
    await driver.snapshot([`${fs}@s1`]);
    const guid = await getProperty(`${fs}@s1`, 'guid');
    const send = driver.send({ snapshot: `${fs}@s1` });
    await Promise.all([driver.receive({ target: `${parent}/copy`, snapshotName: 's1', expectedGuid: guid }, send.stream), send.done]);
    await assert.rejects(driver.destroy(`${fs}@missing`));

    const subcommands = new Set(told.map((info) => info.subcommand));
    for (const expected of ['snapshot', 'send', 'recv', 'get', 'zpool get', 'destroy'])
      assert.ok(subcommands.has(expected), `${expected} told: ${[...subcommands].join(', ')}`);
    assert.ok(!subcommands.has('receive'), 'receive is told as recv');
    const streams = told.filter((info) => info.subcommand === 'send' || info.subcommand === 'recv').map((info) => `${info.subcommand} ${info.ok}`);
    assert.deepEqual(streams.sort(), ['recv true', 'send true'], 'one send and one receive, each told once');
    assert.equal(told.find((info) => info.subcommand === 'destroy')?.ok, false);
    assert.ok(told.every((info) => info.durationMs >= 0 && Number.isFinite(info.durationMs)));
  });

  test('an observer that throws does not fail the command', async () => {
    const driver = new ZfsDriver({
      onCommand: () => {
        throw new Error('metrics broke');
      },
    });
    const fs = await createDataset(ctx.pool.dataset('throws'));
    await driver.snapshot([`${fs}@s1`]);
    assert.equal((await driver.listVersions(fs)).length, 1);
  });

  test('subcommand labels: receive is recv, zpool commands carry zpool', () => {
    assert.equal(subcommandOf('zfs', ['receive', '-A', 'p/x'], 'zpool'), 'recv');
    assert.equal(subcommandOf('zfs', ['list', '-H'], 'zpool'), 'list');
    assert.equal(subcommandOf('zpool', ['get', 'all', 'p'], 'zpool'), 'zpool get');
  });
});
