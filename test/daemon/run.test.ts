/**
 * `zferry run JOB`: one invocation of a config's job in the foreground, with the one-shot
 * CLI's summary and exit codes. While a daemon replicates the same job, the target lock
 * refuses the run clearly (TARGET_BUSY, naming the daemon) and nothing is damaged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runZferry, serveCommand } from '../helpers/cli.js';
import { daemonDir, daemonReady, sshConnectYaml, startDaemon, throttledServeCommand, type DaemonDir, type RunningDaemon } from '../helpers/daemon-process.js';
import { useSshd } from '../helpers/sshd.js';
import { createDataset, listSnapshots, snapshot, usePool, writeFile } from '../helpers/zfs-pool.js';

const MiB = 1024 * 1024;

async function guids(filesystem: string): Promise<string[]> {
  return (await listSnapshots(filesystem)).map((s) => s.guid);
}

describe('zferry run', () => {
  const sshd = useSshd();
  const src = usePool({ sizeMiB: 256 });
  const dst = usePool({ sizeMiB: 256 });
  let dir: DaemonDir;
  let daemon: RunningDaemon | undefined;
  let quick = '';
  let big = '';
  let into = '';

  before(async () => {
    dir = await daemonDir();
    const fast = await sshd().newClientKey('fast');
    await sshd().authorize({ key: fast, command: serveCommand() });
    const slow = await sshd().newClientKey('slow');
    await sshd().authorize({ key: slow, command: throttledServeCommand(3 * MiB) });
    quick = await createDataset(src.pool.dataset('quick'));
    await snapshot(`${quick}@s1`);
    big = await createDataset(src.pool.dataset('big'));
    await writeFile(big, 'blob', 30 * MiB);
    await snapshot(`${big}@s1`);
    into = await createDataset(dst.pool.dataset('pulled'), { properties: { mountpoint: 'none' } });
    await dir.writeConfig(
      [
        'jobs:',
        '  - name: quick',
        '    type: pull',
        sshConnectYaml(sshd(), fast, '    '),
        `    root_fs: ${into}/quick`,
        `    filesystems: {"${quick}": true}`,
        '    interval: manual',
        '  - name: slow',
        '    type: pull',
        sshConnectYaml(sshd(), slow, '    '),
        `    root_fs: ${into}/slow`,
        `    filesystems: {"${big}": true}`,
        '    interval: 1h',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (daemon && !daemon.process.exited) await daemon.stop();
    await dir.remove();
  });

  test('runs the job once: summary on stderr, exit 0; --json on stdout', async () => {
    const first = await runZferry(['run', 'quick', '--config', dir.configFile]);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`${quick} -> ${into}/quick/${quick}: replicated`));
    assert.deepEqual(await guids(`${into}/quick/${quick}`), await guids(quick));

    await snapshot(`${quick}@s2`);
    const second = await runZferry(['run', 'quick', '--json', '--config', dir.configFile]);
    assert.equal(second.exitCode, 0, second.stderr);
    const output = JSON.parse(second.stdout) as { job: string; outcome: string; runs: Array<{ filesystems: Array<{ source: string; outcome: string }> }> };
    assert.equal(output.job, 'quick');
    assert.equal(output.outcome, 'ok');
    assert.deepEqual(
      output.runs[0]?.filesystems.map((fs) => [fs.source, fs.outcome]),
      [[quick, 'replicated']],
    );
    assert.deepEqual(await guids(`${into}/quick/${quick}`), await guids(quick));
  });

  test('a job the config does not have is a usage error (exit 2)', async () => {
    const unknown = await runZferry(['run', 'nope', '--config', dir.configFile]);
    assert.equal(unknown.exitCode, 2, unknown.stderr);
    assert.match(unknown.stderr, /has no job named 'nope' \(jobs: quick, slow\)/);
  });

  test('while the daemon replicates the same job: refused with TARGET_BUSY naming the daemon, nothing damaged', async () => {
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    const running = daemon;
    await running.waitForJob('slow', (job) => job.state === 'running' && job.filesystems.some((fs) => fs.bytes > 0), 'the daemon is transferring');
    const refused = await runZferry(['run', 'slow', '--config', dir.configFile]);
    assert.equal(refused.exitCode, 1, refused.stderr);
    assert.match(refused.stderr, /\[TARGET_BUSY\]/);
    assert.match(refused.stderr, new RegExp(`is being replicated by another zferry \\(pid ${running.pid}, job 'slow'.*running zferry daemon \\(job slow\\)`));
    const done = await running.waitForJob('slow', (job) => job.last !== undefined, 'the daemon finished the job');
    assert.equal(done.last?.outcome, 'ok', JSON.stringify(done.last));
    assert.deepEqual(await guids(`${into}/slow/${big}`), await guids(big));

    // A manual job runs when woken up.
    await snapshot(`${quick}@s3`);
    const woken = await runZferry(['signal', 'wakeup', 'quick', '--config', dir.configFile]);
    assert.equal(woken.exitCode, 0, woken.stderr);
    const quickJob = await running.waitForJob('quick', (job) => job.last?.trigger === 'wakeup', 'the woken job ran');
    assert.equal(quickJob.last?.outcome, 'ok');
    assert.deepEqual(await guids(`${into}/quick/${quick}`), await guids(quick));
    assert.equal((await running.stop()).exitCode, 0);
  });
});
