/**
 * The job runner's progress events as metrics: bytes counted as they pass and topped up to
 * each step's size, step durations with kind and outcome (an unfinished step counts with its
 * filesystem's outcome), last success set for replicated and up-to-date filesystems only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FilesystemResult } from '../../../replication/job/types.js';
import { DaemonMetrics } from '../../../daemon/metrics/daemon-metrics.js';
import { valueOf } from '../../helpers/prometheus-text.js';

function result(source: string, outcome: FilesystemResult['outcome']): FilesystemResult {
  return { source, target: `t/${source}`, outcome, plan: [], steps: [], bytes: 0, durationMs: 0, actions: [] };
}

test('progress events become bytes, step durations and last successes', async () => {
  let now = 1_700_000_000_000;
  const metrics = new DaemonMetrics({ now: () => now, defaultMetrics: false });
  const observe = metrics.progressObserver('laptop');
  observe({ type: 'step-start', filesystem: 'pool/a', step: 'full  pool/a@s1', index: 0, total: 2 });
  observe({ type: 'bytes', filesystem: 'pool/a', bytes: 1000 });
  observe({ type: 'bytes', filesystem: 'pool/a', bytes: 2500 });
  now += 3000;
  observe({ type: 'step-done', filesystem: 'pool/a', step: 'full  pool/a@s1', bytes: 3000, durationMs: 3000 });
  observe({ type: 'step-start', filesystem: 'pool/a', step: 'incr  pool/a@s1 -> s2', index: 1, total: 2 });
  observe({ type: 'bytes', filesystem: 'pool/a', bytes: 400 });
  now += 1000;
  observe({ type: 'filesystem-done', result: result('pool/a', 'failed') });
  observe({ type: 'filesystem-done', result: result('pool/b', 'up-to-date') });
  observe({ type: 'filesystem-done', result: result('pool/c', 'skipped') });

  const text = await metrics.text();
  assert.equal(valueOf(text, 'zferry_replication_bytes_total', { zferry_job: 'laptop', filesystem: 'pool/a' }), 3400);
  assert.equal(valueOf(text, 'zferry_replication_step_duration_seconds_count', { zferry_job: 'laptop', kind: 'full', outcome: 'ok' }), 1);
  assert.equal(valueOf(text, 'zferry_replication_step_duration_seconds_sum', { zferry_job: 'laptop', kind: 'full', outcome: 'ok' }), 3);
  assert.equal(valueOf(text, 'zferry_replication_step_duration_seconds_count', { zferry_job: 'laptop', kind: 'incremental', outcome: 'failed' }), 1);
  assert.equal(valueOf(text, 'zferry_replication_step_duration_seconds_sum', { zferry_job: 'laptop', kind: 'incremental', outcome: 'failed' }), 1);
  assert.equal(valueOf(text, 'zferry_last_successful_replication_timestamp_seconds', { zferry_job: 'laptop', filesystem: 'pool/a' }), undefined);
  assert.equal(valueOf(text, 'zferry_last_successful_replication_timestamp_seconds', { zferry_job: 'laptop', filesystem: 'pool/b' }), now / 1000);
  assert.equal(valueOf(text, 'zferry_last_successful_replication_timestamp_seconds', { zferry_job: 'laptop', filesystem: 'pool/c' }), undefined);
});

test('invocation ends count outcomes and errors by code; ages, late and rpo are read at the scrape', async () => {
  const t0 = 1_700_000_000_000;
  let now = t0;
  const metrics = new DaemonMetrics({ now: () => now, defaultMetrics: false });
  metrics.readJobsFrom(() => [
    {
      job: 'laptop',
      rpoMs: 7_200_000,
      filesystems: [
        { source: 'pool/a', newestReplicatedAt: t0 - 10_800_000, late: true },
        { source: 'pool/b', late: false },
      ],
    },
    { job: 'plain', filesystems: [{ source: 'pool/c', newestReplicatedAt: t0 - 5000 }] },
  ]);
  metrics.invocationEnded('laptop', {
    outcome: 'failed',
    filesystems: [{ outcome: 'failed', error: { code: 'TARGET_MODIFIED' } }],
    runErrors: [{ code: 'SINK_ROOT_MISSING' }],
  });
  metrics.invocationEnded('laptop', { outcome: 'failed', filesystems: [], error: { code: 'HOOK_FAILED' } });
  metrics.invocationEnded('laptop', { outcome: 'ok', filesystems: [] });
  metrics.connectionOpened('backups', 'db1', 'tls');
  metrics.connectionOpened('backups', 'db1', 'tls');
  metrics.connectionClosed('backups', 'db1', 'tls');
  metrics.zfsCommand({ subcommand: 'send', durationMs: 1500, ok: true });

  let text = await metrics.text();
  assert.equal(valueOf(text, 'zferry_invocations_total', { zferry_job: 'laptop', outcome: 'failed' }), 2);
  assert.equal(valueOf(text, 'zferry_invocations_total', { zferry_job: 'laptop', outcome: 'ok' }), 1);
  assert.equal(valueOf(text, 'zferry_errors_total', { zferry_job: 'laptop', code: 'TARGET_MODIFIED' }), 1);
  assert.equal(valueOf(text, 'zferry_errors_total', { zferry_job: 'laptop', code: 'SINK_ROOT_MISSING' }), 1);
  assert.equal(valueOf(text, 'zferry_errors_total', { zferry_job: 'laptop', code: 'HOOK_FAILED' }), 1);
  assert.equal(valueOf(text, 'zferry_newest_replicated_snapshot_age_seconds', { zferry_job: 'laptop', filesystem: 'pool/a' }), 10_800);
  assert.equal(valueOf(text, 'zferry_newest_replicated_snapshot_age_seconds', { zferry_job: 'laptop', filesystem: 'pool/b' }), undefined);
  assert.equal(valueOf(text, 'zferry_newest_replicated_snapshot_age_seconds', { zferry_job: 'plain', filesystem: 'pool/c' }), 5);
  assert.equal(valueOf(text, 'zferry_late', { zferry_job: 'laptop', filesystem: 'pool/a' }), 1);
  assert.equal(valueOf(text, 'zferry_late', { zferry_job: 'laptop', filesystem: 'pool/b' }), 0);
  assert.equal(valueOf(text, 'zferry_late', { zferry_job: 'plain' }), undefined, 'no rpo, no late series');
  assert.equal(valueOf(text, 'zferry_rpo_seconds', { zferry_job: 'laptop' }), 7200);
  assert.equal(valueOf(text, 'zferry_open_connections', { zferry_job: 'backups', identity: 'db1', transport: 'tls' }), 1);
  assert.equal(valueOf(text, 'zferry_zfs_command_duration_seconds_count', { subcommand: 'send', outcome: 'ok' }), 1);

  now += 60_000;
  text = await metrics.text();
  assert.equal(
    valueOf(text, 'zferry_newest_replicated_snapshot_age_seconds', { zferry_job: 'laptop', filesystem: 'pool/a' }),
    10_860,
    'the age grows between scrapes',
  );
});
