/**
 * A real `zferry daemon` with a push job that has an `rpo` and an `on_late` hook, and a
 * prometheus endpoint (zfs-fuse pools, a sink of the same daemon): its source gets no new
 * snapshots, so its one filesystem goes late although wakeups keep succeeding; the hook runs
 * once, status says late, /metrics says zferry_late 1. A new snapshot and a wakeup: recovered,
 * the hook runs once more, status and metrics follow.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobStatusView } from '../../../daemon/status-types.js';
import { runZferry } from '../../helpers/cli.js';
import { daemonDir, daemonReady, startDaemon, type DaemonDir, type RunningDaemon, sinkAndPushJobs } from '../../helpers/daemon-process.js';
import { freePort } from '../../helpers/free-port.js';
import { httpGet, valueOf } from '../../helpers/prometheus-text.js';
import { createDataset, snapshot, usePool } from '../../helpers/zfs-pool.js';

/**
 * The rpo. Recovery needs the new snapshot replicated within it (its age counts from its
 * creation, which zfs keeps in whole seconds): a few seconds leave room on a loaded machine.
 */
const RPO = '4s';

describe('a daemon whose push job has an rpo', () => {
  const src = usePool();
  const dst = usePool();
  let dir: DaemonDir;
  let daemon: RunningDaemon | undefined;
  let record = '';
  let data = '';
  let port = 0;

  before(async () => {
    dir = await daemonDir();
    record = path.join(dir.dir, 'late.log');
    const script = path.join(dir.dir, 'on-late.sh');
    await writeFile(script, `#!/bin/sh\necho "$ZFERRY_HOOKTYPE|$ZFERRY_JOB|$ZFERRY_FS|$ZFERRY_LATE_STATE|$ZFERRY_RPO_SECONDS" >> ${record}\n`);
    await chmod(script, 0o755);
    data = await createDataset(src.pool.dataset('data'));
    await snapshot(`${data}@s1`);
    const sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    port = await freePort();
    await dir.writeConfig(
      [
        '  monitoring:',
        `    - {type: prometheus, listen: "127.0.0.1:${port}"}`,
        ...sinkAndPushJobs(sinkRoot),
        `    filesystems: {"${data}": true}`,
        '    interval: manual',
        '    conflict_resolution: {initial_replication: all}',
        `    rpo: ${RPO}`,
        `    on_late: {type: command, path: ${script}}`,
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (daemon && !daemon.process.exited) await daemon.stop();
    await dir.remove();
  });

  const hookLines = async (): Promise<string[]> => (await readFile(record, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
  const waitForHookLines = async (count: number, what: string): Promise<string[]> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const lines = await hookLines();
      if (lines.length >= count) return lines;
      if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(lines)}`);
      await sleep(100);
    }
  };
  const wakeup = async (running: RunningDaemon): Promise<JobStatusView> => {
    const before = (await running.job('laptop')).last?.endedAt;
    const woken = await runZferry(['signal', 'wakeup', 'laptop', '--config', dir.configFile]);
    assert.equal(woken.exitCode, 0, woken.stderr);
    const job = await running.waitForJob('laptop', (view) => view.last?.endedAt !== undefined && view.last.endedAt !== before, 'the wakeup ran');
    assert.equal(job.last?.outcome, 'ok', JSON.stringify(job.last));
    return job;
  };
  const metrics = async (): Promise<string> => (await httpGet(`http://127.0.0.1:${port}/metrics`)).body;

  test('no new snapshots: late once, however often it runs; a new snapshot: recovered once', async () => {
    daemon = startDaemon(dir);
    const running = daemon;
    await daemonReady(running);
    let job = await wakeup(running);
    assert.equal(job.filesystems[0]?.lastReplicated?.snapshot, 's1');
    assert.equal(job.rpo, RPO);

    await running.waitForJob('laptop', (view) => view.late === 1, 'late');
    // Runs that find nothing new succeed and change nothing: still late, no second hook.
    await wakeup(running);
    job = await wakeup(running);
    assert.equal(job.late, 1);
    assert.equal(job.filesystems[0]?.late, true);
    assert.deepEqual(await waitForHookLines(1, 'the hook ran'), [`on_late|laptop|${data}|late|4`]);
    let text = await metrics();
    assert.equal(valueOf(text, 'zferry_late', { zferry_job: 'laptop', filesystem: data }), 1);
    assert.equal(valueOf(text, 'zferry_rpo_seconds', { zferry_job: 'laptop' }), 4);
    assert.ok((valueOf(text, 'zferry_newest_replicated_snapshot_age_seconds', { zferry_job: 'laptop', filesystem: data }) ?? 0) > 4);
    const view = await runZferry(['status', '--config', dir.configFile]);
    assert.match(view.stdout, /rpo {9}4s; 1 filesystem LATE/);
    assert.match(view.stdout, /LATE \(rpo 4s, newest replicated \d+s old\)/);

    await snapshot(`${data}@s2`);
    job = await wakeup(running);
    assert.equal(job.filesystems[0]?.lastReplicated?.snapshot, 's2');
    assert.equal(job.late, 0);
    assert.equal(job.filesystems[0]?.late, false);
    assert.deepEqual(await waitForHookLines(2, 'the recovery hook ran'), [`on_late|laptop|${data}|late|4`, `on_late|laptop|${data}|recovered|4`]);
    text = await metrics();
    assert.equal(valueOf(text, 'zferry_late', { zferry_job: 'laptop', filesystem: data }), 0);
    assert.deepEqual((await hookLines()).length, 2, 'nothing more ran');
  });
});
