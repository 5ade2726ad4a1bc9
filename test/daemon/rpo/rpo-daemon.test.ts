/**
 * A daemon with a push job that has an `rpo` (built from a Config object, on zfs-fuse, with the
 * real metrics endpoint and hook processes): its source gets no new snapshots, so its one
 * filesystem goes late although wakeups keep succeeding; the on_late hook runs once, status
 * says late, /metrics says zferry_late 1. A new snapshot and a wakeup: recovered, the hook
 * runs once more, status and metrics follow.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import type { HookConfig } from '../../../config/types.js';
import { Daemon } from '../../../daemon/daemon.js';
import { DaemonMetrics } from '../../../daemon/metrics/daemon-metrics.js';
import { startMetricsServer, type MetricsServer } from '../../../daemon/metrics/http-server.js';
import type { JobStatusView } from '../../../daemon/status-types.js';
import { EndpointOpener } from '../../../replication/endpoint/open.js';
import { daemonConfig, pushToSink, sink } from '../../helpers/daemon-config.js';
import { httpGet, valueOf } from '../../helpers/prometheus-text.js';
import { createDataset, snapshot, usePool } from '../../helpers/zfs-pool.js';

/**
 * The rpo. Recovery needs the new snapshot replicated within it (its age counts from its
 * creation, which zfs keeps in whole seconds): a few seconds leave room on a loaded machine.
 */
const RPO_MS = 4000;
const position = { file: '/test/zferry.yml', line: 1, column: 1 };

describe('a push job with an rpo', () => {
  const src = usePool();
  const dst = usePool();
  let dir = '';
  let record = '';
  let data = '';
  let daemon: Daemon | undefined;
  let server: MetricsServer | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-rpo-daemon-'));
    record = path.join(dir, 'late.log');
    const script = path.join(dir, 'on-late.sh');
    await writeFile(script, `#!/bin/sh\necho "$ZFERRY_HOOKTYPE|$ZFERRY_JOB|$ZFERRY_FS|$ZFERRY_LATE_STATE|$ZFERRY_RPO_SECONDS" >> ${record}\n`);
    await chmod(script, 0o755);
    data = await createDataset(src.pool.dataset('data'));
    await snapshot(`${data}@s1`);
    const sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    const hook: HookConfig = { type: 'command', path: script, args: [], timeoutMs: 10_000, errIsFatal: false, when: ['on_late'], position };
    const config = daemonConfig(
      [sink('backups', 'backups', sinkRoot), pushToSink('laptop', { [data]: true }, 'backups', 'laptop', { rpo: { maxAgeMs: RPO_MS, onLate: [hook] } })],
      path.join(dir, 'state'),
    );
    const logger = pino({ level: 'silent' });
    const metrics = new DaemonMetrics();
    const opener = new EndpointOpener({ logger, probeCacheFile: path.join(dir, 'probe-cache.json'), onZfsCommand: metrics.zfsCommand });
    daemon = await Daemon.create({ config, logger, version: 'test', opener, metrics });
    server = await startMetricsServer(metrics, [{ type: 'prometheus', listen: '127.0.0.1:0', host: '127.0.0.1', port: 0 }], logger);
    await daemon.begin();
  });

  after(async () => {
    await daemon?.shutdown();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const hookLines = async (): Promise<string[]> => (await readFile(record, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
  const job = (): JobStatusView => {
    const found = daemon?.status().jobs.find((candidate) => candidate.name === 'laptop');
    assert.ok(found !== undefined);
    return found;
  };
  const waitFor = async (check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not ${what} within ${timeoutMs} ms: ${JSON.stringify(job(), null, 2)}`);
      await sleep(100);
    }
  };
  const wakeupAndWait = async (): Promise<void> => {
    const before = job().last?.endedAt;
    daemon?.wakeup('laptop');
    await waitFor(() => job().last !== undefined && job().last?.endedAt !== before, 'the wakeup ran');
    assert.equal(job().last?.outcome, 'ok', JSON.stringify(job().last));
  };
  const metrics = async (): Promise<string> => (await httpGet(`http://127.0.0.1:${server?.addresses[0]?.port ?? 0}/metrics`)).body;

  test('no new snapshots: late once, however often it runs; a new snapshot: recovered once', async () => {
    await wakeupAndWait();
    assert.equal(job().filesystems[0]?.lastReplicated?.snapshot, 's1');
    assert.equal(job().rpo, '4s');

    await waitFor(() => job().late === 1, 'late');
    // Runs that find nothing new succeed, and change nothing: still late, no second hook.
    await wakeupAndWait();
    await wakeupAndWait();
    const late = job();
    assert.equal(late.late, 1);
    assert.equal(late.filesystems[0]?.late, true);
    await waitFor(async () => (await hookLines()).length >= 1, 'the hook ran');
    assert.deepEqual(await hookLines(), [`on_late|laptop|${data}|late|4`]);
    let text = await metrics();
    assert.equal(valueOf(text, 'zferry_late', { zferry_job: 'laptop', filesystem: data }), 1);
    assert.equal(valueOf(text, 'zferry_rpo_seconds', { zferry_job: 'laptop' }), 4);
    assert.ok((valueOf(text, 'zferry_newest_replicated_snapshot_age_seconds', { zferry_job: 'laptop', filesystem: data }) ?? 0) > 4);

    await snapshot(`${data}@s2`);
    await wakeupAndWait();
    assert.equal(job().filesystems[0]?.lastReplicated?.snapshot, 's2');
    assert.equal(job().late, 0);
    assert.equal(job().filesystems[0]?.late, false);
    await waitFor(async () => (await hookLines()).length >= 2, 'the recovery hook ran');
    assert.deepEqual(await hookLines(), [`on_late|laptop|${data}|late|4`, `on_late|laptop|${data}|recovered|4`]);
    text = await metrics();
    assert.equal(valueOf(text, 'zferry_late', { zferry_job: 'laptop', filesystem: data }), 0);
  });
});
