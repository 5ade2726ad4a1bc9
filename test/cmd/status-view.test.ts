/** The human view of `zferry status`: fixed statuses in, exact lines out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitWidth, formatAge, formatRelative, progressBar, renderStatus } from '../../cmd/status-view.js';
import type { DaemonStatus, FilesystemStatusView } from '../../daemon/status-types.js';
import { SAMPLE_NOW, sampleStatus } from '../fixtures/control-status.js';

const MiB = 1024 * 1024;

test('ages: two units at most, a zero second unit left out', () => {
  assert.equal(formatAge(0), '0s');
  assert.equal(formatAge(0.9), '0s');
  assert.equal(formatAge(45), '45s');
  assert.equal(formatAge(60), '1m');
  assert.equal(formatAge(192), '3m 12s');
  assert.equal(formatAge(3600 * 2 + 5 * 60 + 59), '2h 5m');
  assert.equal(formatAge(86400 * 3 + 3600 * 4 + 17), '3d 4h');
  assert.equal(formatAge(-5), '0s');
});

test('relative times: to come, past and now', () => {
  assert.equal(formatRelative('2025-03-01T12:04:12Z', SAMPLE_NOW), 'in 4m 12s');
  assert.equal(formatRelative('2025-03-01T11:57:00Z', SAMPLE_NOW), '3m ago');
  assert.equal(formatRelative('2025-03-01T12:00:00.400Z', SAMPLE_NOW), 'now');
  assert.equal(formatRelative('not a time', SAMPLE_NOW), 'not a time');
});

test('progress bars: empty, partly filled, full, and never past full', () => {
  assert.equal(progressBar(0, 10), '[>         ]');
  assert.equal(progressBar(0.6, 10), '[======>   ]');
  assert.equal(progressBar(0.99, 10), '[=========>]');
  assert.equal(progressBar(1, 10), '[==========]');
  assert.equal(progressBar(1.7, 10), '[==========]');
  assert.equal(progressBar(Number.NaN, 10), '[>         ]');
  assert.equal(progressBar(0.5).length, 22);
});

test('the sample daemon: every job, its runs and its filesystems', () => {
  assert.deepEqual(renderStatus(sampleStatus(), { now: SAMPLE_NOW }), [
    'zferry 0.1.0 daemon, pid 4242, up 2h 5m; config /etc/zferry/zferry.yml, loaded 10m ago',
    '',
    'home-to-backup  push  running',
    '  schedule    every 10m; next run in 4m 12s',
    '  skipped     2 ticks while a run was still going, last 3m ago',
    '  running     started 1m 5s ago (schedule), 1 attempt, 308.0 MiB',
    '  last run    ok, started 10m ago (schedule), ended 7m 47s ago, took 2m 13s, 3.0 GiB',
    '  tank/home → backup/home  running, step 2/3: incremental @a → @b',
    '    [============>       ] 60%  300.0 MiB of 500.0 MiB  10.0 MiB/s  0:20 left',
    '    last replicated tank/home@a, 3h old',
    '  tank/home/alice → backup/home/alice  done, 2/2 steps, 4.0 MiB',
    '    last replicated tank/home/alice@b, 1m 30s old',
    '  tank/home/bob → backup/home/bob  failed, 0/1 steps',
    '    error [ZFS_TARGET_MODIFIED] backup/home/bob was modified since its most recent snapshot (40s ago)',
    '',
    'backup-sink  sink  serving',
    '',
    'hourly  snap  idle',
    '  schedule    cron 0 * * * * (Europe/Berlin); next run in 1h',
    '  last run    FAILED, started 2d ago (wakeup), ended 1d 23h ago, took 5s, 3 attempts, 0 B',
    '              error [ZFS_OUT_OF_SPACE] out of space',
  ]);
});

function withFilesystem(fs: FilesystemStatusView): DaemonStatus {
  const status = sampleStatus();
  return { ...status, jobs: [{ ...status.jobs[0]!, filesystems: [fs] }] };
}

function filesystemLines(status: DaemonStatus): string[] {
  const lines = renderStatus(status, { now: SAMPLE_NOW });
  return lines.slice(lines.findIndex((line) => line.startsWith('  tank/')));
}

test('a running step of unknown size: bytes and rate, no bar and no time left', () => {
  const lines = filesystemLines(
    withFilesystem({ source: 'tank/a', target: 'backup/a', state: 'running', step: 'full @s1', stepsDone: 0, stepsTotal: 1, bytes: 12 * MiB, rate: 3 * MiB }),
  );
  assert.deepEqual(lines, ['  tank/a → backup/a  running, step 1/1: full @s1', '    12.0 MiB  3.0 MiB/s']);
});

test('a step that overran its estimated size shows a full bar at 100%, never more', () => {
  const lines = filesystemLines(
    withFilesystem({ source: 'tank/a', target: 'backup/a', state: 'verifying', stepsDone: 0, stepsTotal: 1, bytes: 30 * MiB, bytesTotal: 20 * MiB, rate: 0 }),
  );
  assert.deepEqual(lines, ['  tank/a → backup/a  verifying, step 1/1', '    [====================] 100%  30.0 MiB of 20.0 MiB  0 B/s']);
});

test('a job that is due, with one skipped tick and no filesystems yet; a daemon with no jobs', () => {
  const status = sampleStatus();
  const job = { ...status.jobs[2]!, nextRunAt: '2025-03-01T11:59:59Z', skippedTicks: 1 };
  delete job.last;
  assert.deepEqual(renderStatus({ ...status, jobs: [job] }, { now: SAMPLE_NOW }).slice(2), [
    'hourly  snap  idle',
    '  schedule    cron 0 * * * * (Europe/Berlin); next run due now',
    '  skipped     1 tick while a run was still going',
  ]);
  assert.deepEqual(renderStatus({ ...status, jobs: [] }, { now: SAMPLE_NOW }).slice(1), ['', 'no jobs']);
});

test('lines are cut to the terminal width, with a mark', () => {
  assert.deepEqual(fitWidth(['short', 'x'.repeat(30)], 21), ['short', `${'x'.repeat(19)}…`]);
});

test("a sink's clients connected now, under their job", () => {
  const status: DaemonStatus = {
    ...sampleStatus(),
    connections: [
      {
        job: 'backup-sink',
        identity: 'laptop',
        transport: 'tls',
        peer: 'tls from 192.0.2.7:50122 (subject CN=laptop, issuer CN=ca)',
        since: '2025-03-01T11:58:00Z',
      },
    ],
  };
  const lines = renderStatus(status, { now: SAMPLE_NOW });
  const at = lines.indexOf('backup-sink  sink  serving');
  assert.equal(lines[at + 1], '  client      laptop over tls (tls from 192.0.2.7:50122 (subject CN=laptop, issuer CN=ca)), since 2m ago');
});
