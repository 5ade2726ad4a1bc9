/**
 * `zferry daemon` with a push job (local connect) to a sink of the same config, every second:
 * snapshots made by hand on the source appear on the sink below `root_fs/<client>/…` with the
 * source's guids, first in full, then incrementally; the filter keeps what it excludes at
 * home; status (over the control socket) shows the job, its last success, each filesystem's
 * last replicated snapshot and no error; SIGTERM ends it with exit code 0.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonStatus } from '../../daemon/status-types.js';
import { runZferry } from '../helpers/cli.js';
import { daemonDir, daemonReady, startDaemon, type DaemonDir, type RunningDaemon, sinkAndPushJobs } from '../helpers/daemon-process.js';
import { createDataset, datasetExists, listSnapshots, snapshot, usePool } from '../helpers/zfs-pool.js';

async function guids(filesystem: string): Promise<Record<string, string>> {
  return Object.fromEntries((await listSnapshots(filesystem)).map((s) => [s.name, s.guid]));
}

describe('a daemon pushing to its own sink', () => {
  const src = usePool();
  const dst = usePool();
  let dir: DaemonDir;
  let daemon: RunningDaemon | undefined;
  let data = '';
  let sinkRoot = '';

  before(async () => {
    dir = await daemonDir();
    data = await createDataset(src.pool.dataset('data'));
    await createDataset(`${data}/a`);
    await createDataset(`${data}/tmp`);
    await snapshot(`${data}@s1`, { recursive: true });
    sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    await dir.writeConfig(
      [
        ...sinkAndPushJobs(sinkRoot),
        '    filesystems:',
        `      "${data}<": true`,
        `      "${data}/tmp": false`,
        '    interval: 1s',
        '    conflict_resolution: {initial_replication: all}',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (daemon && !daemon.process.exited) await daemon.stop();
    await dir.remove();
  });

  test('replicates what is there, then each new snapshot, and says so in status', async () => {
    daemon = startDaemon(dir);
    const status = await daemonReady(daemon);
    assert.deepEqual(
      status.jobs.map((job) => [job.name, job.type, job.schedule]),
      [
        ['backups', 'sink', undefined],
        ['laptop', 'push', 'every 1s'],
      ],
    );
    assert.equal(status.jobs[0]?.state, 'serving');

    const target = `${sinkRoot}/laptop/${data}`;
    const replicated = (snapshotName: string) => (job: { filesystems: Array<{ source: string; lastReplicated?: { snapshot: string } }> }) =>
      [data, `${data}/a`].every((fs) => job.filesystems.find((view) => view.source === fs)?.lastReplicated?.snapshot === snapshotName);
    await daemon.waitForJob('laptop', replicated('s1'), 'replicated @s1');
    assert.deepEqual(await guids(target), await guids(data));
    assert.deepEqual(await guids(`${target}/a`), await guids(`${data}/a`));
    assert.equal(await datasetExists(`${target}/tmp`), false, 'the filter kept tmp at home');

    await snapshot(`${data}@s2`, { recursive: true });
    const job = await daemon.waitForJob('laptop', replicated('s2'), 'replicated @s2');
    assert.deepEqual(Object.keys(await guids(`${target}/a`)), ['s1', 's2']);
    assert.deepEqual(await guids(target), await guids(data));
    assert.deepEqual(await guids(`${target}/a`), await guids(`${data}/a`));

    assert.equal(job.last?.outcome, 'ok', JSON.stringify(job.last));
    assert.equal(job.last?.error, undefined);
    assert.ok(job.nextRunAt !== undefined, 'the next run is scheduled');
    for (const fs of job.filesystems) {
      assert.equal(fs.lastError, undefined, `${fs.source} has no error`);
      assert.equal(fs.target, `${sinkRoot}/laptop/${fs.source}`);
      assert.ok((fs.lastReplicated?.ageSeconds ?? -1) >= 0);
    }
    // Every log line about the job names it; those about one filesystem name that too.
    const lines = daemon.logs().filter((line) => line.msg === 'filesystem replicated');
    assert.ok(lines.length >= 4);
    for (const line of lines) {
      assert.equal(line.job, 'laptop');
      assert.ok(line.filesystem === data || line.filesystem === `${data}/a`, JSON.stringify(line));
    }

    // The same through the CLI: `zferry status --json` finds the socket in the config.
    const cli = await runZferry(['status', '--json', '--config', dir.configFile]);
    assert.equal(cli.exitCode, 0, cli.stderr);
    const shown = (JSON.parse(cli.stdout) as DaemonStatus).jobs.find((view) => view.name === 'laptop');
    assert.equal(shown?.last?.outcome, 'ok');
    assert.ok(shown?.filesystems.every((fs) => fs.lastError === undefined && fs.lastReplicated?.snapshot === 's2'));

    const stopped = await daemon.stop();
    assert.equal(stopped.exitCode, 0, stopped.stderr);
  });
});
