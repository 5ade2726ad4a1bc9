/**
 * Snapshot names: prefix + timestamp in each `timestamp_format`, written in
 * `timestamp_location` (UTC by default, an IANA zone, or Local); iso-8601 stays UTC since zfs
 * names cannot hold its `+` offset. And the first snapshot after a (re)start (snapshot-rhythm.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonSnapshotName, snapshotTimestamp } from '../../daemon/snapshot-name.js';
import { firstSnapshotAt, snapshotRhythmOf } from '../../daemon/snapshot-rhythm.js';
import { pushToSink, sink, snapJob, source } from '../helpers/daemon-config.js';
import { SHORT_NAME_PATTERN } from '../../replication/zfs/names.js';

const AT = new Date(Date.UTC(2026, 11, 3, 13, 45, 7, 89));

test('each format in UTC by default', () => {
  assert.equal(snapshotTimestamp(AT, 'dense'), '20261203_134507_089');
  assert.equal(snapshotTimestamp(AT, 'human'), '2026-12-03_13:45:07');
  assert.equal(snapshotTimestamp(AT, 'iso-8601'), '2026-12-03T13:45:07.089Z');
  assert.equal(snapshotTimestamp(AT, 'unix-seconds'), String(Math.floor(AT.getTime() / 1000)));
  assert.equal(snapshotTimestamp(AT, 'dense', 'UTC'), '20261203_134507_089');
});

test('timestamp_location: an IANA zone shifts dense and human (with its DST), not iso-8601 or unix-seconds', () => {
  assert.equal(snapshotTimestamp(AT, 'dense', 'Europe/Berlin'), '20261203_144507_089', 'CET in December');
  assert.equal(snapshotTimestamp(new Date(Date.UTC(2026, 6, 1, 23, 30, 0, 0)), 'human', 'Europe/Berlin'), '2026-07-02_01:30:00', 'CEST, across midnight');
  assert.equal(snapshotTimestamp(AT, 'human', 'America/New_York'), '2026-12-03_08:45:07');
  assert.equal(snapshotTimestamp(AT, 'iso-8601', 'Europe/Berlin'), '2026-12-03T13:45:07.089Z');
  assert.equal(snapshotTimestamp(AT, 'unix-seconds', 'Asia/Tokyo'), snapshotTimestamp(AT, 'unix-seconds'));
  const local = new Date(AT.getTime() - AT.getTimezoneOffset() * 60_000);
  assert.equal(snapshotTimestamp(AT, 'human', 'Local'), snapshotTimestamp(local, 'human'), "Local: this process's zone");
});

test('every format and zone makes a valid snapshot name', () => {
  for (const format of ['dense', 'human', 'iso-8601', 'unix-seconds']) {
    for (const zone of [undefined, 'UTC', 'Local', 'Asia/Kathmandu', 'America/St_Johns']) {
      const name = daemonSnapshotName('zf_', AT, format, zone);
      assert.match(name, SHORT_NAME_PATTERN, `${format} ${zone ?? ''}: ${name}`);
    }
  }
});

test('the first snapshot after a start: one interval after the newest, never in the past', () => {
  assert.equal(firstSnapshotAt(undefined, 10_000, 5_000), 5_000, 'none yet: at once');
  assert.equal(firstSnapshotAt(1_000, 10_000, 5_000), 11_000, 'in step');
  assert.equal(firstSnapshotAt(1_000, 10_000, 50_000), 50_000, 'overdue: at once');
});

test('which jobs keep the rhythm: snap periodic, push whose schedule is its periodic snapshotting', () => {
  assert.equal(snapshotRhythmOf(snapJob('s', { tank: true }, 'a_')), 3_600_000);
  const snapshotting = { type: 'periodic' as const, prefix: 'p_', intervalMs: 600_000, timestampFormat: 'dense' };
  assert.equal(snapshotRhythmOf(pushToSink('p', { tank: true }, 'l', 'c', { snapshotting, schedule: { kind: 'interval', everyMs: 600_000 } })), 600_000);
  assert.equal(
    snapshotRhythmOf(pushToSink('p', { tank: true }, 'l', 'c', { snapshotting, schedule: { kind: 'interval', everyMs: 60_000 } })),
    undefined,
    'its own interval: snapshots at each replication',
  );
  assert.equal(snapshotRhythmOf(pushToSink('p', { tank: true }, 'l', 'c')), undefined, 'manual');
  assert.equal(snapshotRhythmOf({ ...source('s', 'l', { tank: true }), snapshotting }), 600_000, 'a source, where the daemon schedules it');
  assert.equal(snapshotRhythmOf(sink('k', 'l', 'backup')), undefined);
});
