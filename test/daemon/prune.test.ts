/**
 * Pruning as the daemon's invocations apply it, on real ZFS: a snap job prunes after each
 * snapshot (`keep`, atomically taken tree, hand-made and held snapshots untouched); a pull over
 * ssh prunes the remote source with `keep_sender` and its own pool with `keep_receiver` after
 * replicating; a source job with `pruning.keep` prunes its own pool on its schedule.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runZferry, serveCommand } from '../helpers/cli.js';
import { daemonDir, daemonReady, sshConnectYaml, startDaemon, type DaemonDir, type RunningDaemon } from '../helpers/daemon-process.js';
import { useSshd } from '../helpers/sshd.js';
import { createDataset, listSnapshots, snapshot, usePool, zfs } from '../helpers/zfs-pool.js';

async function names(filesystem: string): Promise<string[]> {
  return (await listSnapshots(filesystem)).map((s) => s.name);
}

describe('a snap job prunes after snapshotting (zferry run, the daemon’s invocation)', () => {
  const src = usePool();
  let dir: DaemonDir;
  let data = '';

  before(async () => {
    dir = await daemonDir();
    data = await createDataset(src.pool.dataset('data'));
    await createDataset(`${data}/child`);
    await snapshot(`${data}@mine`, { recursive: true });
    await dir.writeConfig(
      [
        'jobs:',
        '  - name: snaps',
        '    type: snap',
        `    filesystems: {"${data}<": true}`,
        '    snapshotting: {type: periodic, prefix: auto_, interval: 1h}',
        '    pruning:',
        '      keep: [{type: last_n, count: 3}]',
        '',
      ].join('\n'),
    );
  });

  after(() => dir.remove());

  test('each filesystem keeps the newest 3 of its own, the held one and the hand-made one', async () => {
    const taken: string[] = [];
    let held = '';
    for (let i = 0; i < 6; i += 1) {
      const result = await runZferry(['run', 'snaps', '--config', dir.configFile]);
      assert.equal(result.exitCode, 0, result.stderr);
      const now = (await names(data)).filter((name) => name.startsWith('auto_') && !taken.includes(name));
      assert.equal(now.length, 1, `one new snapshot per run: ${now.join(', ')}`);
      taken.push(...now);
      if (i === 0) {
        held = now[0] as string;
        await zfs('hold', 'keepme', `${data}/child@${held}`);
      }
    }
    try {
      const newest = taken.slice(-3);
      assert.deepEqual(await names(data), ['mine', ...newest]);
      assert.deepEqual(await names(`${data}/child`), ['mine', held, ...newest]);
    } finally {
      await zfs('release', 'keepme', `${data}/child@${held}`);
    }
  });
});

describe('a daemon pulling over ssh prunes both sides after replicating', () => {
  const sshd = useSshd();
  const src = usePool();
  const dst = usePool();
  let dir: DaemonDir;
  let daemon: RunningDaemon | undefined;
  let data = '';
  let into = '';

  before(async () => {
    dir = await daemonDir();
    const key = await sshd().newClientKey('prune');
    await sshd().authorize({ key, command: serveCommand() });
    data = await createDataset(src.pool.dataset('data'));
    for (const name of ['s1', 's2', 's3', 's4', 's5']) await snapshot(`${data}@${name}`);
    into = await createDataset(dst.pool.dataset('pulled'), { properties: { mountpoint: 'none' } });
    await dir.writeConfig(
      [
        'jobs:',
        '  - name: fetch',
        '    type: pull',
        sshConnectYaml(sshd(), key, '    '),
        `    root_fs: ${into}`,
        `    filesystems: {"${data}": true}`,
        '    interval: 1h',
        '    conflict_resolution: {initial_replication: all}',
        '    pruning:',
        '      keep_sender: [{type: last_n, count: 2}]',
        '      keep_receiver: [{type: last_n, count: 3}]',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (daemon && !daemon.process.exited) await daemon.stop();
    await dir.remove();
  });

  test('the remote source keeps its newest 2, this pool its newest 3, and the daemon logs each decision', async () => {
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    const destroyedOn = (side: string) =>
      daemon!.waitForLog((line) => line.msg === 'pruning: destroyed' && line['side'] === side, `pruning on the ${side}`, { timeoutMs: 60_000 });
    const [sender, receiver] = await Promise.all([destroyedOn('sender'), destroyedOn('receiver')]);
    assert.deepEqual(sender['destroyed'], ['s1', 's2', 's3']);
    assert.deepEqual(receiver['destroyed'], ['s1', 's2']);
    assert.deepEqual(await names(data), ['s4', 's5']);
    assert.deepEqual(await names(`${into}/${data}`), ['s3', 's4', 's5']);
    const decisions = daemon.logs().find((line) => line.msg === 'pruning decisions' && line['side'] === 'sender');
    assert.deepEqual(
      (decisions?.['decisions'] as Array<{ snapshot: string; action: string }>).map((d) => `${d.snapshot}:${d.action}`),
      ['s1:destroy', 's2:destroy', 's3:destroy', 's4:keep', 's5:keep'],
    );
    const stopped = await daemon.stop();
    assert.equal(stopped.exitCode, 0, stopped.stderr);
  });
});

describe('a source job with pruning.keep prunes its own pool on its schedule', () => {
  const src = usePool();
  let dir: DaemonDir;
  let daemon: RunningDaemon | undefined;
  let data = '';

  before(async () => {
    dir = await daemonDir();
    data = await createDataset(src.pool.dataset('served'));
    await snapshot(`${data}@mine`);
    await dir.writeConfig(
      [
        'jobs:',
        '  - name: served',
        '    type: source',
        '    serve: {type: local, listener_name: served}',
        `    filesystems: {"${data}": true}`,
        '    snapshotting: {type: periodic, prefix: src_, interval: 1s}',
        '    pruning:',
        '      keep: [{type: last_n, count: 2}]',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (daemon && !daemon.process.exited) await daemon.stop();
    await dir.remove();
  });

  test('snapshots keep coming and never more than 2 of its own stay after a pruning', async () => {
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    // The fourth pruning destroyed something: four snapshots were taken, so at least two went.
    let seen = 0;
    let since = 0;
    while (seen < 4) {
      const line = await daemon.waitForLog((l) => l.msg === 'pruning decisions' && l['filesystem'] === data, 'a pruning', { since, timeoutMs: 30_000 });
      since = daemon.logs().indexOf(line) + 1;
      seen += 1;
      const decisions = line['decisions'] as Array<{ snapshot: string; action: string }>;
      assert.ok(decisions.filter((d) => d.snapshot.startsWith('src_') && d.action === 'keep').length <= 2, JSON.stringify(decisions));
      assert.ok(decisions.some((d) => d.snapshot === 'mine' && d.action === 'keep'));
    }
    const stopped = await daemon.stop();
    assert.equal(stopped.exitCode, 0, stopped.stderr);
    const left = await names(data);
    assert.ok(left.includes('mine'));
    // A stop between a snapshot and its pruning leaves one more at most.
    assert.ok(left.filter((name) => name.startsWith('src_')).length <= 3, left.join(', '));
  });
});

describe('a source pruning its own pool while its puller is away (zrepl#102)', () => {
  const src = usePool();
  const dst = usePool();
  let dir: DaemonDir;
  let data = '';
  let into = '';

  before(async () => {
    dir = await daemonDir();
    data = await createDataset(src.pool.dataset('served'));
    into = await createDataset(dst.pool.dataset('pulled'), { properties: { mountpoint: 'none' } });
    for (const name of ['s1', 's2']) await snapshot(`${data}@${name}`);
    await dir.writeConfig(
      [
        'jobs:',
        '  - name: served',
        '    type: source',
        '    serve: {type: local, listener_name: served}',
        `    filesystems: {"${data}": true}`,
        '    pruning:',
        '      keep: [{type: last_n, count: 1}]',
        '  - name: fetch',
        '    type: pull',
        '    connect: {type: local, listener_name: served, client_identity: backup}',
        `    root_fs: ${into}`,
        '    interval: manual',
        '    conflict_resolution: {initial_replication: all}',
        '',
      ].join('\n'),
    );
  });

  after(() => dir.remove());

  test('keeps its own rules and the snapshot the puller needs; the next pull still goes on incrementally', async () => {
    const first = await runZferry(['run', 'fetch', '--config', dir.configFile]);
    assert.equal(first.exitCode, 0, first.stderr);
    // The puller is away while the source keeps taking snapshots.
    for (const name of ['s3', 's4', 's5']) await snapshot(`${data}@${name}`);
    const pruned = await runZferry(['prune', 'served', '--json', '--config', dir.configFile]);
    assert.equal(pruned.exitCode, 0, pruned.stderr);
    const output = JSON.parse(pruned.stdout) as {
      sides: Array<{ filesystems: Array<{ decisions: Array<{ snapshot: string; action: string; reason: string }> }> }>;
    };
    const decisions = output.sides[0]?.filesystems[0]?.decisions ?? [];
    assert.match(decisions.find((d) => d.snapshot === 's2')?.reason ?? '', /newest common with/);
    assert.deepEqual(await names(data), ['s2', 's5']);

    const again = await runZferry(['run', 'fetch', '--config', dir.configFile]);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.deepEqual(await names(`${into}/${data}`), ['s1', 's2', 's5']);
  });
});
