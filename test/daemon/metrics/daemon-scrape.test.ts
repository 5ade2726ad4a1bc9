/**
 * A real `zferry daemon` with `global.monitoring`: after a real replication (push to its own
 * sink, on zfs-fuse), /metrics shows the bytes replicated for the job and filesystem, the last
 * success time, the invocation, and zfs command durations for send and recv; and a daemon
 * whose metrics address is taken does not start, saying which address.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { daemonDir, daemonReady, startDaemon, type DaemonDir, type RunningDaemon, sinkAndPushJobs } from '../../helpers/daemon-process.js';
import { freePort } from '../../helpers/free-port.js';
import { httpGet, samplesOf, valueOf } from '../../helpers/prometheus-text.js';
import { createDataset, snapshot, usePool, writeFile as writeDataset } from '../../helpers/zfs-pool.js';

function configYaml(port: number, data: string, sinkRoot: string): string {
  return [
    '  monitoring:',
    '    - type: prometheus',
    `      listen: "127.0.0.1:${port}"`,
    ...sinkAndPushJobs(sinkRoot),
    `    filesystems: {"${data}": true}`,
    '    interval: 1h',
    '    conflict_resolution: {initial_replication: all}',
    '',
  ].join('\n');
}

describe('a daemon serving prometheus metrics', () => {
  const src = usePool();
  const dst = usePool();
  let dir: DaemonDir;
  let daemon: RunningDaemon | undefined;
  let data = '';
  let sinkRoot = '';
  let port = 0;

  before(async () => {
    dir = await daemonDir();
    data = await createDataset(src.pool.dataset('data'));
    await writeDataset(data, 'blob', 256 * 1024);
    await snapshot(`${data}@s1`);
    sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    port = await freePort();
    await dir.writeConfig(configYaml(port, data, sinkRoot));
  });

  after(async () => {
    if (daemon && !daemon.process.exited) await daemon.stop();
    await dir.remove();
  });

  test('after a replication: bytes, last success, the invocation and zfs send/recv durations', async () => {
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    await daemon.waitForJob('laptop', (job) => job.last?.outcome === 'ok', 'replicated once');
    const answer = await httpGet(`http://127.0.0.1:${port}/metrics`);
    assert.equal(answer.status, 200);
    assert.match(answer.contentType ?? '', /^text\/plain; version=0\.0\.4/);
    const text = answer.body;
    const bytes = valueOf(text, 'zferry_replication_bytes_total', { zferry_job: 'laptop', filesystem: data }) ?? 0;
    assert.ok(bytes > 256 * 1024, `bytes replicated: ${bytes}`);
    const lastSuccess = valueOf(text, 'zferry_last_successful_replication_timestamp_seconds', { zferry_job: 'laptop', filesystem: data }) ?? 0;
    assert.ok(Math.abs(lastSuccess - Date.now() / 1000) < 600, `last success ${lastSuccess} is now, not ${new Date(lastSuccess * 1000).toISOString()}`);
    assert.equal(valueOf(text, 'zferry_invocations_total', { zferry_job: 'laptop', outcome: 'ok' }), 1);
    assert.equal(valueOf(text, 'zferry_replication_step_duration_seconds_count', { zferry_job: 'laptop', kind: 'full', outcome: 'ok' }), 1);
    for (const subcommand of ['send', 'recv', 'list', 'get']) {
      const count = samplesOf(text, 'zferry_zfs_command_duration_seconds_count', { subcommand }).reduce((sum, s) => sum + s.value, 0);
      assert.ok(count >= 1, `zfs ${subcommand} observed (${count})`);
    }
    const age = valueOf(text, 'zferry_newest_replicated_snapshot_age_seconds', { zferry_job: 'laptop', filesystem: data });
    assert.ok(age !== undefined && age >= 0, `newest replicated age: ${age}`);
    assert.equal(samplesOf(text, 'zferry_late').length, 0, 'no rpo: no late series');
    assert.ok(samplesOf(text, 'process_resident_memory_bytes').length === 1, 'the default process metrics are there');

    const stopped = await daemon.stop();
    assert.equal(stopped.exitCode, 0, stopped.stderr);
    await assert.rejects(httpGet(`http://127.0.0.1:${port}/metrics`), 'the metrics endpoint closes with the daemon');
  });

  test('a metrics address in use: the daemon does not start and names the address', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const refused = startDaemon(dir);
      const result = await refused.process.result;
      assert.equal(result.exitCode, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`cannot serve prometheus metrics on 127\\.0\\.0\\.1:${port}: the address is in use`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
