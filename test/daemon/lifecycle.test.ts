/**
 * Stopping a daemon in the middle of a transfer (one `zfs send -I` stream of ~190 MiB from a
 * push job to its sink): SIGTERM ends it within 10 s with exit code 0, the target stays at a
 * complete snapshot (by guid), no zfs process is left, no hold leaks, and the next start
 * completes the job. `kill -9` instead: the next start still completes, with no zfs process
 * left over and every snapshot held exactly by the cursors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonDir, daemonReady, startDaemon, type DaemonDir, type RunningDaemon, sinkAndPushJobs } from '../helpers/daemon-process.js';
import { assertOnlyZferryHolds, assertPrefixReplica, assertStoppedGrowing, growthOf } from '../helpers/transfer-checks.js';
import { createDataset, heldExactly, listSnapshots, snapshot, userrefsBelow, usePool, waitForNoZfsProcesses, writeFile, zfs } from '../helpers/zfs-pool.js';
import { execa } from 'execa';

const MiB = 1024 * 1024;

describe('stopping a daemon mid-transfer', () => {
  const src = usePool({ sizeMiB: 512 });
  const dst = usePool({ sizeMiB: 512 });
  let dir: DaemonDir;
  let daemon: RunningDaemon | undefined;
  let data = '';
  let target = '';

  async function addSnapshots(names: readonly string[]): Promise<void> {
    for (const name of names) {
      await writeFile(data, `${name}.bin`, 64 * MiB);
      await snapshot(`${data}@${name}`);
    }
  }

  async function noZfsLeft(): Promise<void> {
    assert.deepEqual(await waitForNoZfsProcesses(src.pool.name, 5000), [], 'no zfs process on the source pool');
    assert.deepEqual(await waitForNoZfsProcesses(dst.pool.name, 5000), [], 'no zfs process on the target pool');
  }

  before(async () => {
    dir = await daemonDir();
    data = await createDataset(src.pool.dataset('data'));
    await writeFile(data, 'seed', MiB);
    await snapshot(`${data}@s0`);
    await addSnapshots(['s1', 's2', 's3']);
    const sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    target = `${sinkRoot}/laptop/${data}`;
    // The target has @s0 already: the job's stream is one incremental `zfs send -I @s0 @s3`.
    await zfs('create', '-p', `${sinkRoot}/laptop/${src.pool.name}`);
    await execa('sh', ['-c', `zfs send "$1" | zfs recv -u "$2"`, 'sh', `${data}@s0`, target]);
    await writeJobs(true);
  });

  /**
   * `paced`: the push sends at 16 MiB/s, so that the ~190 MiB stream is surely under way when the
   * test stops the daemon, however quickly zfs-fuse here receives or reports its growth.
   */
  async function writeJobs(paced: boolean): Promise<void> {
    const sinkRoot = dst.pool.dataset('sink');
    await dir.writeConfig(
      [
        ...sinkAndPushJobs(sinkRoot),
        `    filesystems: {"${data}": true}`,
        '    interval: 1h',
        '    batch: true',
        ...(paced ? ['    send: {bandwidth_limit: {max: 16 MiB}}'] : []),
        '',
      ].join('\n'),
    );
  }

  after(async () => {
    if (daemon && !daemon.process.exited) await daemon.stop();
    await dir.remove();
  });

  test('SIGTERM: exit 0 within 10 s, target at a complete snapshot, nothing left running or held; the next start completes', async () => {
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    const running = daemon;
    await growthOf(
      dst.pool.name,
      24 * MiB,
      () => !running.process.exited,
      () => running.process.stderr(),
    );
    const signalled = Date.now();
    running.process.signal('SIGTERM');
    const result = await running.process.result;
    const tookMs = Date.now() - signalled;
    assert.equal(result.exitCode, 0, result.stderr);
    assert.ok(tookMs <= 10_000, `exited ${tookMs} ms after SIGTERM`);
    const logs = running.logs();
    assert.ok(
      logs.some((line) => line.msg === 'shutting down: interrupting the running invocations' && JSON.stringify(line.jobs) === '["laptop"]'),
      `the daemon said it interrupted laptop:\n${result.stderr}`,
    );
    const interrupted = logs.find((line) => line.msg === 'invocation interrupted');
    assert.deepEqual(interrupted?.filesystems, [data], 'the log names what was interrupted');

    await assertStoppedGrowing(dst.pool.name);
    await noZfsLeft();
    const landed = await assertPrefixReplica(data, target);
    assert.ok(!landed.includes('s3'), `the interrupted stream did not complete (target has ${landed.join(', ')})`);
    await assertOnlyZferryHolds(data);
    await assertOnlyZferryHolds(target);
    assert.deepEqual(
      Object.values(await userrefsBelow(data)).filter((refs) => refs > 0),
      [],
      'no hold on the source (no cursor moved yet)',
    );

    await writeJobs(false);
    daemon = startDaemon(dir);
    const again = await daemon.waitForJob('laptop', (job) => job.last !== undefined, 'the next invocation ended');
    assert.equal(again.last?.outcome, 'ok', JSON.stringify(again.last));
    assert.deepEqual(
      (await listSnapshots(target)).map((s) => s.guid),
      (await listSnapshots(data)).map((s) => s.guid),
    );
    assert.deepEqual(await userrefsBelow(data), await heldExactly(data, 's3'));
    assert.deepEqual(await userrefsBelow(target), await heldExactly(target, 's3'));
    assert.equal((await daemon.stop()).exitCode, 0);
    await noZfsLeft();
  });

  test('kill -9: the next start completes, no zfs process survives, every hold is a cursor', async () => {
    await addSnapshots(['s4', 's5', 's6']);
    // Unpaced, as a job runs without a limit: nothing of the transfer may outlive the kill.
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    const running = daemon;
    await growthOf(
      dst.pool.name,
      24 * MiB,
      () => !running.process.exited,
      () => running.process.stderr(),
    );
    process.kill(running.pid, 'SIGKILL');
    await running.process.result;

    daemon = startDaemon(dir);
    const again = await daemon.waitForJob('laptop', (job) => job.last !== undefined, 'the invocation after the restart ended');
    assert.equal(again.last?.outcome, 'ok', JSON.stringify(again.last));
    assert.deepEqual(
      (await listSnapshots(target)).map((s) => s.guid),
      (await listSnapshots(data)).map((s) => s.guid),
    );
    assert.equal((await daemon.stop()).exitCode, 0);
    await noZfsLeft();
    assert.deepEqual(await userrefsBelow(data), await heldExactly(data, 's6'));
    assert.deepEqual(await userrefsBelow(target), await heldExactly(target, 's6'));
  });
});
