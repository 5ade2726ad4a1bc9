/**
 * ZfsDriver against real ZFS: listing, properties, snapshots, destroy, rollback, holds,
 * user properties, rename, create and the capability probe.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ZfsDriver,
  DatasetBusyError,
  DatasetNotFoundError,
  DestinationExistsError,
  HoldExistsError,
  HoldNotFoundError,
  InvalidNameError,
  ZfsError,
} from '../../../replication/zfs/index.js';
import { createDataset, datasetExists, getProperty, listSnapshots, mountpointOf, snapshot, usePool, writeFile, zfs } from '../../helpers/zfs-pool.js';
import { LEVEL, memoryLogger } from '../../helpers/zfs-logger.js';

describe('ZfsDriver basics (real zfs)', () => {
  const ctx = usePool({ sizeMiB: 128 });
  const driver = new ZfsDriver();

  test('capabilities: probed once per pool, each missing feature has a reason', async () => {
    const caps = await driver.capabilities(ctx.pool.name);
    assert.equal(await driver.capabilities(ctx.pool.dataset('anything/below')), caps, 'cached per pool');
    assert.equal(driver.cachedCapabilities(ctx.pool.name), caps);
    for (const [key, value] of Object.entries(caps)) {
      if (key === 'reasons' || value === true) continue;
      assert.ok((caps.reasons as Record<string, string>)[key], `reason for ${key}`);
    }
    // Each feature that is off is logged once with its reason.
    const { logger, records } = memoryLogger();
    const logged = new ZfsDriver({ logger });
    await logged.capabilities(ctx.pool.name);
    const off = Object.keys(caps.reasons).sort();
    const loggedOff = records
      .filter((r) => r.level === LEVEL.debug && /zfs capability .* is off/.test(r.msg ?? ''))
      .map((r) => String(r.capability))
      .sort();
    assert.deepEqual(loggedOff, off);
    // Whatever this zfs is, the answers must match what the tool itself says.
    const getT = await zfs('get', '-t', 'snapshot').catch((e: Error) => e.message);
    assert.equal(caps.getTypeFilter, !/invalid option 't'/.test(getT));
  });

  test('listFilesystems: parents before children, component-wise, filter, missing root', async () => {
    const a = ctx.pool.dataset('lf');
    await createDataset(`${a}/b/c`, { parents: true });
    await createDataset(`${a}/a`);
    await createDataset(ctx.pool.dataset('lfx'));
    await snapshot(`${a}/b@snap`);

    assert.deepEqual(await driver.listFilesystems(a), [a, `${a}/a`, `${a}/b`, `${a}/b/c`]);
    assert.deepEqual(await driver.listFilesystems(a, { recursive: false }), [a]);
    assert.deepEqual(await driver.listFilesystems(a, { filter: (n) => !n.endsWith('/c') }), [a, `${a}/a`, `${a}/b`]);
    await assert.rejects(driver.listFilesystems(ctx.pool.dataset('nope')), DatasetNotFoundError);
  });

  test('exists', async () => {
    const fs = await createDataset(ctx.pool.dataset('ex'));
    await snapshot(`${fs}@s`);
    assert.equal(await driver.exists(fs), true);
    assert.equal(await driver.exists(`${fs}@s`), true);
    assert.equal(await driver.exists(`${fs}@missing`), false);
    assert.equal(await driver.exists(ctx.pool.dataset('ex/missing')), false);
    assert.equal(await driver.exists(`${fs}#nobookmark`), false);
  });

  test('listVersions: sorted by createtxg with exact guids; children excluded', async () => {
    const fs = await createDataset(ctx.pool.dataset('lv'));
    await createDataset(`${fs}/child`);
    assert.deepEqual(await driver.listVersions(fs), []);
    await snapshot(`${fs}@c`);
    await writeFile(fs, 'f1', 4096);
    await snapshot(`${fs}@a`);
    await writeFile(fs, 'f2', 4096);
    await snapshot(`${fs}@b`);
    await snapshot(`${fs}/child@x`);

    const versions = await driver.listVersions(fs);
    const expected = await listSnapshots(fs);
    assert.deepEqual(
      versions.map((v) => [v.type, v.fullName, v.guid, v.createtxg]),
      expected.map((s) => ['snapshot', s.fullName, s.guid, s.createtxg]),
    );
    assert.deepEqual(
      versions.map((v) => v.name),
      ['c', 'a', 'b'],
    );
    for (const v of versions) {
      assert.equal(v.filesystem, fs);
      assert.ok(v.creation > 1_000_000_000, 'creation in seconds');
    }
    assert.deepEqual(await driver.listVersions(fs, { types: ['bookmark'] }), []);
    await assert.rejects(driver.listVersions(ctx.pool.dataset('lv-missing')), DatasetNotFoundError);
  });

  test('listVersionTree: a tree with its versions, and filesystem properties from the same zfs get', async () => {
    const fs = await createDataset(ctx.pool.dataset('lvt'));
    await createDataset(`${fs}/child`);
    await createDataset(`${fs}/empty`);
    await snapshot(`${fs}@a`, { recursive: true });
    await snapshot(`${fs}/child@b`);
    await zfs('set', 'com.zferry:mark=a', fs);

    const { tree, properties } = await driver.listVersionTree(fs, { properties: ['com.zferry:mark'] });
    assert.deepEqual([...tree.keys()], [fs, `${fs}/child`, `${fs}/empty`]);
    assert.deepEqual(
      tree.get(fs)?.map((v) => v.name),
      ['a'],
    );
    assert.deepEqual(
      tree.get(`${fs}/child`)?.map((v) => v.name),
      ['a', 'b'],
    );
    const expected = await listSnapshots(`${fs}/child`);
    assert.deepEqual(
      tree.get(`${fs}/child`)?.map((v) => v.guid),
      expected.map((s) => s.guid),
    );
    assert.deepEqual(properties.get(fs), { 'com.zferry:mark': { value: 'a', source: 'local' } });
    assert.deepEqual(properties.get(`${fs}/child`), { 'com.zferry:mark': { value: 'a', source: `inherited from ${fs}` } });
    assert.equal(properties.has(`${fs}@a`), false, 'snapshots carry no filesystem properties');

    const shallow = await driver.listVersionTree(fs, { recursive: false });
    assert.deepEqual([...shallow.tree.keys()], [fs]);
    assert.equal(shallow.properties.size, 0, 'no properties asked, none read');
    await assert.rejects(driver.listVersionTree(ctx.pool.dataset('lvt-missing')), DatasetNotFoundError);
  });

  test('getProperties: exact values and sources; unset user property reads "-"', async () => {
    const fs = await createDataset(ctx.pool.dataset('gp'));
    const guid = await snapshot(`${fs}@s`);
    const props = await driver.getProperties(`${fs}@s`, ['guid', 'userrefs', 'com.zferry:missing']);
    assert.deepEqual(props, {
      guid: { value: guid, source: '-' },
      userrefs: { value: '0', source: '-' },
      'com.zferry:missing': { value: '-', source: '-' },
    });
    const fsProps = await driver.getProperties(fs, ['atime']);
    assert.deepEqual(fsProps.atime, { value: 'off', source: `inherited from ${ctx.pool.name}` });
    await assert.rejects(driver.getProperties(`${fs}@nope`, ['guid']), DatasetNotFoundError);
  });

  test('snapshot: several datasets, properties, recursive, existing snapshot', async () => {
    const x = await createDataset(ctx.pool.dataset('sn-x'));
    const y = await createDataset(ctx.pool.dataset('sn-y'));
    await driver.snapshot([`${x}@one`, `${y}@one`], { properties: { 'com.zferry:job': 'job1' } });
    assert.equal(await getProperty(`${x}@one`, 'com.zferry:job'), 'job1');
    assert.equal(await getProperty(`${y}@one`, 'com.zferry:job'), 'job1');

    await createDataset(`${x}/kid`);
    await driver.snapshot([`${x}@rec`], { recursive: true });
    assert.equal(await datasetExists(`${x}/kid@rec`), true);

    await assert.rejects(driver.snapshot([`${x}@one`]), DestinationExistsError);
    await assert.rejects(driver.snapshot([`${x}@dup`, `${x}@dup`]), InvalidNameError);
    await assert.rejects(driver.snapshot([ctx.pool.dataset('sn-missing@s')]), DatasetNotFoundError);
  });

  test('destroySnapshots: several at once, idempotent, missing filesystem, held snapshot', async () => {
    const fs = await createDataset(ctx.pool.dataset('ds'));
    for (const name of ['a', 'b', 'c', 'd']) await snapshot(`${fs}@${name}`);
    await driver.destroySnapshots(fs, ['a', 'c']);
    assert.deepEqual(
      (await listSnapshots(fs)).map((s) => s.name),
      ['b', 'd'],
    );
    await driver.destroySnapshots(fs, ['a', 'c']); // already gone: fine
    await driver.destroySnapshots(fs, []);
    await assert.rejects(driver.destroySnapshots(ctx.pool.dataset('ds-missing'), ['a']), DatasetNotFoundError);

    await zfs('hold', 'keep', `${fs}@b`);
    await assert.rejects(driver.destroySnapshots(fs, ['b']), DatasetBusyError);
    await zfs('release', 'keep', `${fs}@b`);
    await driver.destroySnapshots(fs, ['b', 'd']);
    assert.deepEqual(await listSnapshots(fs), []);
  });

  test('destroy: snapshot, filesystem tree, missing', async () => {
    const fs = await createDataset(ctx.pool.dataset('de'));
    await createDataset(`${fs}/kid`);
    await snapshot(`${fs}@s`);
    await driver.destroy(`${fs}@s`);
    assert.equal(await datasetExists(`${fs}@s`), false);
    await assert.rejects(driver.destroy(fs), ZfsError, 'has children: needs recursive');
    await driver.destroy(fs, { recursive: true });
    assert.equal(await datasetExists(fs), false);
    await assert.rejects(driver.destroy(fs), DatasetNotFoundError);
  });

  test('destroy of a mounted filesystem in use fails as busy (after retrying)', async () => {
    const fs = await createDataset(ctx.pool.dataset('busy'));
    const mountpoint = await mountpointOf(fs);
    const holder = spawn('sleep', ['30'], { cwd: mountpoint, stdio: 'ignore' });
    try {
      await assert.rejects(driver.destroy(fs), (error: unknown) => {
        assert.ok(error instanceof DatasetBusyError, String(error));
        assert.match(error.stderr, /busy/);
        return true;
      });
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
    await driver.destroy(fs);
    assert.equal(await datasetExists(fs), false);
  });

  test('rollback: refuses over newer snapshots unless destroyNewer', async () => {
    const fs = await createDataset(ctx.pool.dataset('rb'));
    await writeFile(fs, 'file', 'first');
    await snapshot(`${fs}@one`);
    await writeFile(fs, 'file', 'second');
    await snapshot(`${fs}@two`);
    await writeFile(fs, 'file', 'third');

    await assert.rejects(driver.rollback(`${fs}@one`), (error: unknown) => {
      assert.ok(error instanceof ZfsError);
      assert.match(error.stderr, /more recent snapshots exist/);
      return true;
    });
    await driver.rollback(`${fs}@two`);
    assert.equal(await readFile(path.join(await mountpointOf(fs), 'file'), 'utf8'), 'second');
    await driver.rollback(`${fs}@one`, { destroyNewer: true });
    assert.deepEqual(
      (await listSnapshots(fs)).map((s) => s.name),
      ['one'],
    );
    assert.equal(await readFile(path.join(await mountpointOf(fs), 'file'), 'utf8'), 'first');
  });

  test('hold/release/listHolds (userrefs where `zfs holds` is unusable)', async () => {
    const fs = await createDataset(ctx.pool.dataset('ho'));
    await snapshot(`${fs}@a`);
    await snapshot(`${fs}@b`);
    await driver.hold('zferry_job1_dst', [`${fs}@a`, `${fs}@b`]);
    const caps = await driver.capabilities(fs);
    const holds = await driver.listHolds(`${fs}@a`);
    if (caps.holds) assert.deepEqual(holds, ['zferry_job1_dst']);
    else assert.equal(holds, null);
    assert.equal((await driver.getProperties(`${fs}@a`, ['userrefs'])).userrefs?.value, '1');

    await assert.rejects(driver.hold('zferry_job1_dst', [`${fs}@a`]), HoldExistsError);
    await driver.release('zferry_job1_dst', [`${fs}@a`, `${fs}@b`]);
    assert.equal(await getProperty(`${fs}@b`, 'userrefs'), '0');
    await assert.rejects(driver.release('zferry_job1_dst', [`${fs}@a`]), HoldNotFoundError);
  });

  test('user properties on filesystems and snapshots', async () => {
    const fs = await createDataset(ctx.pool.dataset('up'));
    await snapshot(`${fs}@s`);
    await driver.setUserProperty(fs, 'com.zferry:cursor', 'guid=123 name=x@y');
    await driver.setUserProperty(`${fs}@s`, 'com.zferry:job', 'j1');
    assert.equal(await getProperty(fs, 'com.zferry:cursor'), 'guid=123 name=x@y');
    assert.equal(await getProperty(`${fs}@s`, 'com.zferry:job'), 'j1');
    await driver.inheritProperty(fs, 'com.zferry:cursor');
    assert.deepEqual((await driver.getProperties(fs, ['com.zferry:cursor']))['com.zferry:cursor'], { value: '-', source: '-' });
    await assert.rejects(driver.setUserProperty(fs, 'mountpoint', '/x'), InvalidNameError);
  });

  test('rename: a mounted filesystem with a mounted child, and a snapshot', async () => {
    const fs = await createDataset(ctx.pool.dataset('rn'));
    await createDataset(`${fs}/kid`);
    await writeFile(`${fs}/kid`, 'data', 'kept');
    const renamed = ctx.pool.dataset('rn2');
    await driver.rename(fs, renamed);
    assert.equal(await datasetExists(fs), false);
    assert.equal(await getProperty(renamed, 'mounted'), 'yes');
    assert.equal(await getProperty(`${renamed}/kid`, 'mounted'), 'yes');
    assert.equal(await readFile(path.join(await mountpointOf(`${renamed}/kid`), 'data'), 'utf8'), 'kept');

    await snapshot(`${renamed}@old`);
    await driver.rename(`${renamed}@old`, `${renamed}@new`);
    assert.deepEqual(
      (await listSnapshots(renamed)).map((s) => s.name),
      ['new'],
    );
    await assert.rejects(driver.rename(`${renamed}@new`, `${ctx.pool.dataset('other')}@new`), InvalidNameError);
    await assert.rejects(driver.rename(renamed, `${renamed}/below`), InvalidNameError);
    await assert.rejects(driver.rename(ctx.pool.dataset('rn-missing'), ctx.pool.dataset('rn-x')), DatasetNotFoundError);
  });

  test('create: parents and properties; existing', async () => {
    const fs = ctx.pool.dataset('cr/deep/leaf');
    await driver.create(fs, { parents: true, properties: { mountpoint: 'none', 'com.zferry:origin': 'test' } });
    assert.equal(await getProperty(fs, 'mountpoint'), 'none');
    assert.equal(await getProperty(fs, 'com.zferry:origin'), 'test');
    assert.equal(existsSync(path.join(ctx.pool.mountpoint, 'cr', 'deep', 'leaf')), false);
    await assert.rejects(driver.create(fs), DestinationExistsError);
    await assert.rejects(driver.create(ctx.pool.dataset('cr-missing/leaf')), DatasetNotFoundError);
  });

  test('getResumeToken: undefined where unsupported or absent', async () => {
    const fs = await createDataset(ctx.pool.dataset('rt'));
    assert.equal(await driver.getResumeToken(fs), undefined);
  });
});
