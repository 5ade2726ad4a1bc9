import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describePlan } from '../../../replication/planner/describe.js';
import { planFilesystem } from '../../../replication/planner/plan-filesystem.js';
import type { PlanInput } from '../../../replication/planner/types.js';
import { bookmark, received, snapshot } from '../../helpers/replication-history.js';

const guid = (n: number): string => (2n ** 61n + BigInt(n) * 7n).toString();
const s = (n: number) => snapshot('tank/a', `s${n}`, guid(n), n * 10);
const r = (n: number) => received(s(n), 'backup/a', 100 + n);
const input = (sender: PlanInput['sender'], receiver: PlanInput['receiver'], modified?: boolean): PlanInput => ({
  source: 'tank/a',
  target: 'backup/a',
  sender,
  receiver,
  receiverModifiedSinceLatest: modified,
});
const NOW = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

describe('describePlan', () => {
  test('initial replication', () => {
    assert.deepEqual(describePlan(planFilesystem(input([s(1), s(2)], null))), [
      'tank/a -> backup/a: initial replication (all) to new backup/a: 2 snapshots in 2 steps',
      'full  tank/a@s1',
      'incr  tank/a@s1 -> @s2',
    ]);
  });

  test('-I with its snapshot count, and a full receive into an existing empty target', () => {
    assert.deepEqual(describePlan(planFilesystem(input([1, 2, 3, 4, 5].map(s), []), { batch: true })), [
      'tank/a -> backup/a: initial replication (all) into existing backup/a, which has no snapshots: 5 snapshots in 2 steps',
      'full  tank/a@s1 (into existing backup/a, recv -F)',
      'incr -I tank/a@s1 -> @s5 (4 snapshots)',
    ]);
  });

  test('incremental from a bookmark', () => {
    const lines = describePlan(planFilesystem(input([bookmark('tank/a', 'cursor', guid(1), 10), s(2)], [r(1)])));
    assert.deepEqual(lines.slice(1), ['incr  tank/a#cursor -> @s2']);
  });

  test('rollback lists everything it destroys, uncut', () => {
    const extra = Array.from({ length: 12 }, (_, i) => snapshot('backup/a', `x${i}`, guid(500 + i), 200 + i));
    const lines = describePlan(planFilesystem(input([s(1), s(2), s(3)], [r(1), ...extra]), { onDiverged: 'rollback' }));
    assert.equal(lines[1], `rollback backup/a to @s1, destroying ${extra.map((x) => `@${x.name}`).join(', ')}`);
    assert.deepEqual(lines.slice(2), ['incr  tank/a@s1 -> @s2', 'incr  tank/a@s2 -> @s3']);
  });

  test('rollback of a modified target', () => {
    const lines = describePlan(planFilesystem(input([s(1), s(2)], [r(1)], true), { onDiverged: 'rollback' }));
    assert.equal(lines[1], 'rollback backup/a to @s1 (discarding changes made since)');
  });

  test('rename aside', () => {
    const lines = describePlan(
      planFilesystem(input([s(1), s(2)], [r(1), snapshot('backup/a', 'x', guid(99), 500)]), { onDiverged: 'rename', now: NOW, initial: 'most-recent' }),
    );
    assert.deepEqual(lines.slice(1), ['rename backup/a -> backup/a-diverged-20260102T030405Z', 'full  tank/a@s2']);
  });

  test('up-to-date, skip and refuse are one line each', () => {
    assert.deepEqual(describePlan(planFilesystem(input([s(1)], [r(1)]))), ['up-to-date  tank/a -> backup/a (at @s1)']);
    assert.deepEqual(describePlan(planFilesystem(input([], null))), ['skip  tank/a: nothing to send: tank/a has no snapshots']);
    const refused = describePlan(planFilesystem(input([s(1)], null), { initial: 'fail' }));
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, /^refuse {2}tank\/a -> backup\/a: INITIAL_REFUSED: target backup\/a does not exist/);
  });
});
