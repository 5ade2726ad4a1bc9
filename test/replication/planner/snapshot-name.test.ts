import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatUtcCompact, snapshotNameFor } from '../../../replication/planner/snapshot-name.js';
import { PlanArgumentError } from '../../../replication/planner/errors.js';

describe('snapshotNameFor', () => {
  test('formats UTC with a default prefix', () => {
    assert.equal(snapshotNameFor(new Date(Date.UTC(2026, 10, 23, 10, 53, 0))), 'zferry_20261123T105300Z');
  });

  test('uses UTC whatever the offset the Date was built from', () => {
    assert.equal(snapshotNameFor(new Date('2026-01-02T03:04:05+05:30'), 'x-'), 'x-20260101T213405Z');
  });

  test('zero-pads and drops milliseconds', () => {
    assert.equal(formatUtcCompact(new Date(Date.UTC(987, 0, 1, 0, 0, 9, 999))), '09870101T000009Z');
  });

  test('names sort in time order', () => {
    const times = [0, 1000, 59_000, 3_600_000, 86_400_000, 31_536_000_000, 1_000_000_000_000].map((t) => new Date(t));
    const names = times.map((t) => snapshotNameFor(t));
    assert.deepEqual([...names].sort(), names);
  });

  test('contains only characters zfs accepts', () => {
    assert.match(snapshotNameFor(new Date(), 'auto.hourly:'), /^[A-Za-z0-9_.:-]+$/);
  });

  test('refuses prefixes zfs or shells would choke on, and invalid dates', () => {
    for (const prefix of ['a b', 'a/b', 'a@b', 'a#b', 'a%b', 'ä']) {
      assert.throws(() => snapshotNameFor(new Date(0), prefix), PlanArgumentError, prefix);
    }
    assert.throws(
      () => snapshotNameFor(new Date(Number.NaN)),
      (err: unknown) => err instanceof PlanArgumentError && err.code === 'INVALID_ARGUMENT',
    );
    assert.throws(() => snapshotNameFor(new Date(Date.UTC(10000, 0, 1))), PlanArgumentError);
  });
});
