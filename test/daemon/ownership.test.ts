/**
 * Which snapshots a job owns (replicates and prunes): its prefix's, plus what its
 * `snapshots.include` names, minus `snapshots.exclude`; no prefix: every snapshot (zrepl#403).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownedSnapshotGlobs, ownsSnapshot } from '../../daemon/ownership.js';
import { policy, pullFromSource, pushToSink, snapJob, source } from '../helpers/daemon-config.js';

const periodic = { type: 'periodic' as const, prefix: 'zf_', intervalMs: 60_000, timestampFormat: 'dense' };

test('a job with a prefix owns its own snapshots only', () => {
  const push = pushToSink('p', { tank: true }, 'l', 'c', { snapshotting: periodic });
  assert.equal(ownsSnapshot(push, 'zf_20261203_134507_089'), true);
  assert.equal(ownsSnapshot(push, 'manual_before_upgrade'), false);
  assert.equal(ownsSnapshot(push, 'xzf_1'), false, 'a prefix, not a substring');
  assert.equal(ownsSnapshot(snapJob('s', { tank: true }, 'auto_'), 'auto_1'), true);
  assert.equal(ownsSnapshot(snapJob('s', { tank: true }, 'auto_'), 'zf_1'), false);
});

test('snapshots.include adds to the prefix; exclude wins', () => {
  const push = pushToSink('p', { tank: true }, 'l', 'c', {
    snapshotting: periodic,
    replication: policy({ snapshots: { include: ['keep_*'], exclude: ['zf_*_tmp', 'keep_no'] } }),
  });
  assert.deepEqual(ownedSnapshotGlobs(push), { include: ['zf_*', 'keep_*'], exclude: ['zf_*_tmp', 'keep_no'] });
  assert.equal(ownsSnapshot(push, 'keep_this'), true);
  assert.equal(ownsSnapshot(push, 'keep_no'), false);
  assert.equal(ownsSnapshot(push, 'zf_1_tmp'), false);
  assert.equal(ownsSnapshot(push, 'other'), false);
});

test('no prefix: every snapshot, or what include names', () => {
  assert.equal(ownsSnapshot(pushToSink('p', { tank: true }, 'l', 'c'), 'anything'), true);
  assert.equal(ownsSnapshot(pullFromSource('q', 'l', 'backup'), 'anything'), true);
  assert.equal(ownsSnapshot(source('src', 'l', { tank: true }), 'anything'), true);
  const narrowed = pullFromSource('q', 'l', 'backup', { replication: policy({ snapshots: { include: ['daily_*'], exclude: [] } }) });
  assert.equal(ownsSnapshot(narrowed, 'daily_1'), true);
  assert.equal(ownsSnapshot(narrowed, 'hourly_1'), false);
});
