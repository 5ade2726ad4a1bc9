/**
 * A running daemon and its config file: SIGHUP with a valid changed config applies it (a new
 * job runs, the old one goes on); SIGHUP with a broken one logs every problem at its
 * FILE:LINE:COLUMN and keeps the running config. A job renamed without `renamed_from` is
 * refused at start (its holds carry the old name); with it, the new name takes the cursors over.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonDir, daemonReady, startDaemon, type DaemonDir, type RunningDaemon } from '../helpers/daemon-process.js';
import { runZferry } from '../helpers/cli.js';
import { createDataset, heldExactly, listSnapshots, snapshot, userrefsBelow, usePool, zferryCursors } from '../helpers/zfs-pool.js';

async function guids(filesystem: string): Promise<string[]> {
  return (await listSnapshots(filesystem)).map((s) => s.guid);
}

function sinkYaml(root: string): string[] {
  return ['  - name: backups', '    type: sink', '    serve: {type: local, listener_name: backups}', `    root_fs: ${root}`];
}

function pushYaml(name: string, client: string, dataset: string, extra: string[] = []): string[] {
  return [
    `  - name: ${name}`,
    '    type: push',
    `    connect: {type: local, listener_name: backups, client_identity: ${client}}`,
    `    filesystems: {"${dataset}": true}`,
    '    interval: 1s',
    ...extra,
  ];
}

const lastReplicated = (fs: string, name: string) => (job: { filesystems: Array<{ source: string; lastReplicated?: { snapshot: string } }> }) =>
  job.filesystems.find((view) => view.source === fs)?.lastReplicated?.snapshot === name;

describe('reloading the config', () => {
  const src = usePool();
  const dst = usePool();
  let dir: DaemonDir;
  let daemon: RunningDaemon | undefined;
  let sinkRoot = '';

  before(async () => {
    dir = await daemonDir();
    sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
  });

  after(async () => {
    if (daemon && !daemon.process.exited) await daemon.stop();
    await dir.remove();
  });

  test('SIGHUP: a valid config with a new job runs it; a broken one is logged problem by problem and the old one keeps running', async () => {
    const one = await createDataset(src.pool.dataset('one'));
    const two = await createDataset(src.pool.dataset('two'));
    await snapshot(`${one}@s1`);
    await snapshot(`${two}@s1`);
    await dir.writeConfig(['jobs:', ...sinkYaml(sinkRoot), ...pushYaml('first', 'c1', one), ''].join('\n'));
    daemon = startDaemon(dir);
    const running = daemon;
    await daemonReady(running);
    await running.waitForJob('first', lastReplicated(one, 's1'), 'first replicated @s1');

    await dir.writeConfig(['jobs:', ...sinkYaml(sinkRoot), ...pushYaml('first', 'c1', one), ...pushYaml('second', 'c2', two), ''].join('\n'));
    let since = running.logs().length;
    running.process.signal('SIGHUP');
    await running.waitForLog((line) => line.msg === 'config reloaded', 'the reload', { since });
    await running.waitForJob('second', lastReplicated(two, 's1'), 'the new job replicated @s1');
    assert.deepEqual(await guids(`${sinkRoot}/c2/${two}`), await guids(two));
    const loadedAt = (await running.status()).configLoadedAt;

    // Broken: a bad interval and a misspelt key.
    const broken = pushYaml('second', 'c2', two, ['    intreval: 5m']).map((line) => (line === '    interval: 1s' ? '    interval: 1x' : line));
    await dir.writeConfig(['jobs:', ...sinkYaml(sinkRoot), ...pushYaml('first', 'c1', one), ...broken, ''].join('\n'));
    since = running.logs().length;
    running.process.signal('SIGHUP');
    await running.waitForLog((line) => line.msg === 'config not reloaded: the running config stays', 'the refused reload', { since });
    const problems = running
      .logs()
      .slice(since)
      .filter((line) => line.level === 50 && line.msg.startsWith(`${dir.configFile}:`));
    assert.equal(problems.length, 2, JSON.stringify(problems, null, 2));
    for (const problem of problems) assert.match(problem.msg, new RegExp(`^${dir.configFile}:\\d+:\\d+: jobs\\[2\\]\\.(interval|intreval)`));
    assert.ok(
      problems.some((problem) => /did you mean 'interval'/.test(problem.msg)),
      'a misspelt key gets a suggestion',
    );

    const status = await running.status();
    assert.equal(status.configLoadedAt, loadedAt, 'the running config stays');
    assert.deepEqual(
      status.jobs.map((job) => job.name),
      ['backups', 'first', 'second'],
    );
    await snapshot(`${one}@s2`);
    await running.waitForJob('first', lastReplicated(one, 's2'), 'the old config keeps replicating');
    assert.deepEqual(await guids(`${sinkRoot}/c1/${one}`), await guids(one));
    assert.equal((await running.stop()).exitCode, 0);
  });

  test('a renamed job is refused at start unless renamed_from names its old name; then it takes the cursors over', async () => {
    const data = await createDataset(src.pool.dataset('renamed'));
    await snapshot(`${data}@s1`);
    await dir.writeConfig(['jobs:', ...sinkYaml(sinkRoot), ...pushYaml('before', 'c3', data), ''].join('\n'));
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    await daemon.waitForJob('before', lastReplicated(data, 's1'), 'replicated under the old name');
    assert.equal((await daemon.stop()).exitCode, 0);

    await dir.writeConfig(['jobs:', ...sinkYaml(sinkRoot), ...pushYaml('after', 'c3', data), ''].join('\n'));
    const refused = await runZferry(['daemon', '--config', dir.configFile], { timeoutMs: 30_000 });
    assert.equal(refused.exitCode, 2, refused.stderr);
    assert.match(refused.stderr, /zferry\.yml:\d+:\d+: jobs\[1\]: job 'after' replicates what job 'before' did; its holds and cursors are tagged 'before'/);
    assert.match(refused.stderr, /Add `renamed_from: \[before\]` to job 'after'/);
    const alsoRun = await runZferry(['run', 'after', '--config', dir.configFile]);
    assert.equal(alsoRun.exitCode, 2, `zferry run refuses it too:\n${alsoRun.stderr}`);

    await snapshot(`${data}@s2`);
    await dir.writeConfig(['jobs:', ...sinkYaml(sinkRoot), ...pushYaml('after', 'c3', data, ['    renamed_from: before']), ''].join('\n'));
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    await daemon.waitForJob('after', lastReplicated(data, 's2'), 'replicated under the new name');
    assert.equal((await daemon.stop()).exitCode, 0);
    const target = `${sinkRoot}/c3/${data}`;
    for (const side of [data, target]) {
      const tags = [...(await zferryCursors(side)).entries()].filter(([, value]) => value.source === 'local').map(([property]) => property);
      assert.equal(tags.length, 1, `${side}: one cursor (${tags.join(', ')})`);
      assert.match(tags[0] ?? '', /zferry_after_/);
      assert.deepEqual(await userrefsBelow(side), await heldExactly(side, 's2'), `${side}: only the new cursor's hold`);
    }
  });
});
