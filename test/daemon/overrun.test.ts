/**
 * A transfer that outlasts the schedule: a pull every second from a remote whose stream is
 * throttled (test/fixtures/throttled-serve) to a few MiB/s, of a snapshot of tens of MiB. The
 * ticks that come while it runs are skipped, counted in status and logged; never are two
 * invocations of the job running at once, and none is queued to run after the long one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonDir, daemonReady, sshConnectYaml, startDaemon, throttledServeCommand, type DaemonDir, type RunningDaemon } from '../helpers/daemon-process.js';
import { useSshd } from '../helpers/sshd.js';
import { runZferry } from '../helpers/cli.js';
import { assertOnlyZferryHolds } from '../helpers/transfer-checks.js';
import { createDataset, listSnapshots, snapshot, usePool, waitForNoZfsProcesses, writeFile } from '../helpers/zfs-pool.js';

const MiB = 1024 * 1024;

describe('an invocation longer than the interval', () => {
  const sshd = useSshd();
  const src = usePool({ sizeMiB: 256 });
  const dst = usePool({ sizeMiB: 256 });
  let dir: DaemonDir;
  let daemon: RunningDaemon | undefined;
  let data = '';
  let into = '';

  before(async () => {
    dir = await daemonDir();
    const key = await sshd().newClientKey('slow');
    await sshd().authorize({ key, command: throttledServeCommand(6 * MiB) });
    data = await createDataset(src.pool.dataset('big'));
    await writeFile(data, 'blob', 30 * MiB);
    await snapshot(`${data}@s1`);
    into = await createDataset(dst.pool.dataset('pulled'), { properties: { mountpoint: 'none' } });
    await dir.writeConfig(
      [
        'jobs:',
        '  - name: slow',
        '    type: pull',
        sshConnectYaml(sshd(), key, '    '),
        `    root_fs: ${into}`,
        '    filesystems:',
        `      "${data}": true`,
        '    interval: 1s',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (daemon && !daemon.process.exited) await daemon.stop();
    await dir.remove();
  });

  test('skips the ticks that come while it runs, and never runs twice at once', async () => {
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    const running = await daemon.waitForJob('slow', (job) => job.skippedTicks >= 2, 'two ticks skipped');
    assert.equal(running.state, 'running');
    assert.ok(running.lastSkippedAt !== undefined);
    assert.equal(running.current?.trigger, 'start', 'the first invocation is still the one running');
    const done = await daemon.waitForJob('slow', (job) => job.last !== undefined, 'the long invocation ended');
    assert.equal(done.last?.outcome, 'ok', JSON.stringify(done.last));
    assert.deepEqual(
      (await listSnapshots(`${into}/${data}`)).map((s) => s.guid),
      (await listSnapshots(data)).map((s) => s.guid),
    );
    // One more tick runs normally (nothing new), then stop.
    const startedBefore = daemon.logs().filter((line) => line.msg === 'invocation started').length;
    await daemon.waitForLog((line) => line.msg === 'invocation ended', 'a later invocation ended', { since: daemon.logs().length });
    const stopped = await daemon.stop();
    assert.equal(stopped.exitCode, 0, stopped.stderr);

    const lines = daemon.logs();
    const skipped = lines.filter((line) => line.msg === 'tick skipped: the previous invocation is still running');
    assert.ok(skipped.length >= 2, 'each skipped tick is logged');
    assert.ok(skipped.every((line) => line.job === 'slow' && line.level === 40));
    // Started and ended alternate: never two invocations at once.
    let runningNow = 0;
    for (const line of lines) {
      if (line.msg === 'invocation started') runningNow += 1;
      if (line.msg === 'invocation ended' || line.msg === 'invocation failed' || line.msg === 'invocation interrupted') runningNow -= 1;
      assert.ok(runningNow <= 1, 'two invocations ran at once');
    }
    // The skipped ticks were not queued: right after the long one, at most one more began.
    assert.ok(startedBefore <= 2, `skipped ticks were made up (${startedBefore} invocations by the end of the long one)`);
  });

  test('zferry signal reset stops the running invocation; the next tick completes the job, no hold leaks', async () => {
    await writeFile(data, 'blob2', 30 * MiB);
    await snapshot(`${data}@s2`);
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    const running = daemon;
    await running.waitForJob(
      'slow',
      (job) => job.state === 'running' && job.filesystems.some((fs) => fs.state === 'running' && fs.bytes > 0),
      'transferring @s2',
    );
    const since = running.logs().length;
    const reset = await runZferry(['signal', 'reset', 'slow', '--config', dir.configFile]);
    assert.equal(reset.exitCode, 0, reset.stderr);
    const interrupted = await running.waitForLog((line) => line.msg === 'invocation interrupted', 'the interrupted invocation', { since });
    assert.deepEqual(interrupted.filesystems, [data]);
    // The next tick starts it again, from the last complete snapshot.
    const done = await running.waitForJob(
      'slow',
      (job) => job.last?.outcome === 'ok' && job.filesystems[0]?.lastReplicated?.snapshot === 's2',
      'replicated @s2',
    );
    assert.equal(done.filesystems[0]?.lastError, undefined);
    assert.equal((await running.stop()).exitCode, 0);
    assert.deepEqual(
      (await listSnapshots(`${into}/${data}`)).map((s) => s.guid),
      (await listSnapshots(data)).map((s) => s.guid),
    );
    assert.deepEqual(await waitForNoZfsProcesses(src.pool.name, 5000), []);
    await assertOnlyZferryHolds(data);
    await assertOnlyZferryHolds(`${into}/${data}`);
  });
});
