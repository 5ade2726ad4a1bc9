import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decidePruning, parseKeepRules, type PruneSnapshot, type PruningInput } from '../../../replication/pruning/index.js';

const HOUR = 3600;

/** Hourly snapshots named by the hour, oldest first; createtxg 10, 20, … */
function hourly(names: string[], start = 1_700_000_000): PruneSnapshot[] {
  return names.map((name, i) => ({ name, guid: String(1000 + i), createtxg: 10 * (i + 1), creation: start + i * HOUR, userrefs: 0 }));
}

function input(overrides: Partial<PruningInput>): PruningInput {
  return {
    filesystem: 'tank/data',
    snapshots: [],
    rules: [],
    cursors: [],
    replicates: true,
    lastReplicatedTxg: undefined,
    owns: (name) => name.startsWith('zferry_'),
    ...overrides,
  };
}

function actions(result: ReturnType<typeof decidePruning>): string[] {
  return result.decisions.map((d) => `${d.snapshot} ${d.action} ${d.reason}`);
}

describe('decidePruning', () => {
  const snapshots = hourly(['zferry_1', 'zferry_2', 'manual_3', 'zferry_4', 'zferry_5', 'zferry_6']);

  test('last_n with guards: the cursor, holds, hand-made and unreplicated snapshots survive', () => {
    const held = snapshots.map((s) => (s.name === 'zferry_2' ? { ...s, userrefs: 1 } : s));
    const result = decidePruning(
      input({
        snapshots: [...held].reverse(), // input order does not matter
        rules: parseKeepRules([{ type: 'last_n', count: 1 }], 'keep_sender'),
        cursors: [{ job: 'nightly', destination: 'local://host/backup/data', snapshot: 'zferry_4' }],
        lastReplicatedTxg: 40,
      }),
    );
    assert.deepEqual(actions(result), [
      'zferry_1 destroy no rule keeps it',
      'zferry_2 keep held (1 hold)',
      'manual_3 keep not owned by this job',
      'zferry_4 keep newest common with local://host/backup/data (job nightly)',
      'zferry_5 keep newer than the last replication',
      'zferry_6 keep last_n 1',
    ]);
    assert.equal(result.note, undefined);
    // Every reason that keeps it is listed, rules first.
    assert.deepEqual(
      result.decisions[5]?.keptBy.map((r) => r.text),
      ['last_n 1', 'newer than the last replication'],
    );
  });

  test('hand-made snapshots neither take a last_n place nor move a grid anchor', () => {
    const withManualNewest = hourly(['zferry_1', 'zferry_2', 'zferry_3', 'manual_4']);
    const result = decidePruning(
      input({
        snapshots: withManualNewest,
        rules: parseKeepRules(
          [
            { type: 'last_n', count: 1 },
            { type: 'grid', grid: '1x1h' },
          ],
          'keep',
        ),
        replicates: false,
      }),
    );
    assert.deepEqual(actions(result), [
      'zferry_1 destroy no rule keeps it',
      'zferry_2 destroy no rule keeps it',
      'zferry_3 keep last_n 1',
      'manual_4 keep not owned by this job',
    ]);
    assert.deepEqual(
      result.decisions[2]?.keptBy.map((r) => r.text),
      ['last_n 1', 'grid 1x1h bucket 1/1'],
    );
  });

  test('never replicated: every snapshot is left alone, with a note, not an error (zrepl#606)', () => {
    const result = decidePruning(input({ snapshots, rules: parseKeepRules([{ type: 'last_n', count: 1 }], 'keep_sender') }));
    assert.ok(result.decisions.every((d) => d.action === 'keep' && d.reason === 'never replicated: left alone'));
    assert.match(result.note ?? '', /never replicated/);
  });

  test('a snap job (no replication) prunes without a cursor', () => {
    const result = decidePruning(input({ snapshots, rules: parseKeepRules([{ type: 'last_n', count: 2 }], 'keep'), replicates: false }));
    assert.deepEqual(
      result.decisions.filter((d) => d.action === 'destroy').map((d) => d.snapshot),
      ['zferry_1', 'zferry_2', 'zferry_4'],
    );
  });

  test('an empty rule list keeps everything (zrepl: no rules, no pruning)', () => {
    const result = decidePruning(input({ snapshots, lastReplicatedTxg: 60 }));
    assert.ok(result.decisions.every((d) => d.action === 'keep'));
    assert.match(result.note ?? '', /no keep rules/);
  });

  test('not_replicated keeps what is newer than the cursor, and the cursor itself unless told not to', () => {
    const decide = (keepAtCursor: boolean) =>
      decidePruning(
        input({
          snapshots,
          rules: parseKeepRules([{ type: 'not_replicated', keep_snapshot_at_cursor: keepAtCursor }], 'keep_sender'),
          lastReplicatedTxg: 40,
        }),
      ).decisions.map(
        (d) =>
          `${d.snapshot}:${d.keptBy
            .filter((r) => r.kind === 'rule')
            .map((r) => r.text)
            .join(',')}`,
      );
    assert.deepEqual(decide(true), [
      'zferry_1:',
      'zferry_2:',
      'manual_3:',
      'zferry_4:not_replicated: at the cursor',
      'zferry_5:not_replicated',
      'zferry_6:not_replicated',
    ]);
    assert.deepEqual(decide(false).slice(3), ['zferry_4:', 'zferry_5:not_replicated', 'zferry_6:not_replicated']);
  });

  test('regex and negated regex', () => {
    const named = hourly(['zferry_daily_1', 'zferry_hourly_2', 'zferry_daily_3', 'zferry_hourly_4']);
    const decide = (negate: boolean) =>
      decidePruning(input({ snapshots: named, rules: parseKeepRules([{ type: 'regex', regex: '_daily_', negate }], 'keep'), replicates: false }))
        .decisions.filter((d) => d.action === 'keep')
        .map((d) => d.snapshot);
    assert.deepEqual(decide(false), ['zferry_daily_1', 'zferry_daily_3']);
    assert.deepEqual(decide(true), ['zferry_hourly_2', 'zferry_hourly_4']);
  });

  test('a grid with a regex is anchored at the newest snapshot it matches, and keeps nothing else', () => {
    // daily at 0h, 24h; hourly in between and after. Grid 1x1d(keep=all) anchored at the newest daily.
    const named: PruneSnapshot[] = [
      { name: 'zferry_daily_a', guid: '1', createtxg: 1, creation: 0, userrefs: 0 },
      { name: 'zferry_hourly_b', guid: '2', createtxg: 2, creation: 12 * HOUR, userrefs: 0 },
      { name: 'zferry_daily_c', guid: '3', createtxg: 3, creation: 24 * HOUR, userrefs: 0 },
      { name: 'zferry_hourly_d', guid: '4', createtxg: 4, creation: 30 * HOUR, userrefs: 0 },
    ];
    const result = decidePruning(
      input({ snapshots: named, rules: parseKeepRules([{ type: 'grid', grid: '2x1d', regex: '_daily_' }], 'keep'), replicates: false }),
    );
    assert.deepEqual(actions(result), [
      'zferry_daily_a keep grid 2x1d bucket 2/2',
      'zferry_hourly_b destroy no rule keeps it',
      'zferry_daily_c keep grid 2x1d bucket 1/2',
      'zferry_hourly_d destroy no rule keeps it',
    ]);
  });

  test('several cursors on one snapshot each say so; a cursor by guid finds a renamed snapshot; a missing one is noted', () => {
    const result = decidePruning(
      input({
        snapshots,
        rules: parseKeepRules([{ type: 'last_n', count: 1 }], 'keep_sender'),
        cursors: [
          { job: 'b', destination: 'ssh://nas/tank/data', snapshot: 'old-name', guid: '1000' },
          { job: 'a', destination: 'local://host/backup/data', snapshot: 'zferry_1' },
          { job: 'c', destination: 'local://host/gone', snapshot: 'zferry_0' },
        ],
        lastReplicatedTxg: 60,
      }),
    );
    assert.deepEqual(
      result.decisions[0]?.keptBy.map((r) => r.text),
      ['newest common with local://host/backup/data (job a)', 'newest common with ssh://nas/tank/data (job b)'],
    );
    assert.match(result.note ?? '', /the cursor of job c for local:\/\/host\/gone names @zferry_0, which is not on the filesystem/);
  });

  test("zrepl's grid is not idempotent when its first bucket drops the newest snapshot: the anchor moves back", () => {
    // 2x10m keeps 9 of {9, 12}; the next run anchors at 9, and its first bucket then holds 1 and 9.
    const rules = parseKeepRules([{ type: 'grid', grid: '2x10m' }], 'keep');
    const at = (minute: number, txg: number): PruneSnapshot => ({
      name: `zferry_${minute}`,
      guid: String(txg),
      createtxg: txg,
      creation: minute * 60,
      userrefs: 0,
    });
    const first = decidePruning(input({ snapshots: [at(1, 1), at(9, 2), at(12, 3)], rules, replicates: false }));
    assert.deepEqual(actions(first), ['zferry_1 keep grid 2x10m bucket 2/2', 'zferry_9 keep grid 2x10m bucket 1/2', 'zferry_12 destroy no rule keeps it']);
    const second = decidePruning(input({ snapshots: [at(1, 1), at(9, 2)], rules, replicates: false }));
    assert.deepEqual(actions(second), ['zferry_1 keep grid 2x10m bucket 1/2', 'zferry_9 destroy no rule keeps it']);
  });
});
