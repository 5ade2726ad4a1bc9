/**
 * Random histories × random rule sets. The kept set is computed independently here (an oracle
 * written from the rules, not from the product's code) and must equal the product's exactly;
 * on top, the safety guards, the grid's bucket bounds, determinism, and idempotence where
 * zrepl's semantics give it. ZFERRY_PROPERTY_RUNS sets the number of histories (default 10000).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decidePruning,
  parseKeepRules,
  type PruneCursor,
  type PruneSnapshot,
  type PruningInput,
  type PruningResult,
} from '../../../replication/pruning/index.js';

const RUNS = Number(process.env.ZFERRY_PROPERTY_RUNS ?? 10_000);
/** The secondary properties take a fifth of the runs: each is cheap to break and quick to find. */
const SECONDARY_RUNS = Math.max(100, Math.floor(RUNS / 5));

// ---------------------------------------------------------------- generators

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
type Unit = keyof typeof UNIT_SECONDS;

interface GenInterval {
  count: number;
  amount: number;
  unit: Unit;
  keep: number | 'all';
}

type GenRule =
  | { type: 'grid'; intervals: GenInterval[]; regex?: string }
  | { type: 'last_n'; count: number; regex?: string }
  | { type: 'regex'; regex: string; negate: boolean }
  | { type: 'not_replicated'; keepAtCursor: boolean };

const REGEXES = ['^zferry_', '_hourly_', '_daily_', '1$', '[02468]$', '^manual'];
const regexArb = fc.constantFrom(...REGEXES);

const intervalArb: fc.Arbitrary<GenInterval> = fc.record({
  count: fc.integer({ min: 1, max: 4 }),
  amount: fc.constantFrom(1, 2, 5, 10),
  unit: fc.constantFrom<Unit>('s', 'm', 'h', 'd'),
  keep: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant<'all'>('all')),
});

const seconds = (i: GenInterval): number => i.amount * UNIT_SECONDS[i.unit];

/** Interval lengths never shrink (the parser refuses that outside keep=all), so sort them. */
const gridArb = fc.record(
  { intervals: fc.array(intervalArb, { minLength: 1, maxLength: 4 }).map((list) => [...list].sort((a, b) => seconds(a) - seconds(b))), regex: regexArb },
  { requiredKeys: ['intervals'] },
);

const ruleArb: fc.Arbitrary<GenRule> = fc.oneof(
  gridArb.map((g) => ({ type: 'grid' as const, ...g })),
  fc.record({ count: fc.integer({ min: 1, max: 6 }), regex: regexArb }, { requiredKeys: ['count'] }).map((r) => ({ type: 'last_n' as const, ...r })),
  fc.record({ regex: regexArb, negate: fc.boolean() }).map((r) => ({ type: 'regex' as const, ...r })),
  fc.boolean().map((keepAtCursor) => ({ type: 'not_replicated' as const, keepAtCursor })),
);

function rawRule(rule: GenRule): Record<string, unknown> {
  switch (rule.type) {
    case 'grid':
      return {
        type: 'grid',
        grid: rule.intervals.map((i) => `${i.count}x${i.amount}${i.unit}${i.keep === 1 ? '' : `(keep=${i.keep})`}`).join(' | '),
        ...(rule.regex === undefined ? {} : { regex: rule.regex }),
      };
    case 'last_n':
      return { type: 'last_n', count: rule.count, ...(rule.regex === undefined ? {} : { regex: rule.regex }) };
    case 'regex':
      return { type: 'regex', regex: rule.regex, negate: rule.negate };
    case 'not_replicated':
      return { type: 'not_replicated', keep_snapshot_at_cursor: rule.keepAtCursor };
  }
}

interface Scenario {
  snapshots: PruneSnapshot[];
  rules: GenRule[];
  cursors: PruneCursor[];
  replicates: boolean;
  lastReplicatedTxg: number | undefined;
  ownPrefix: string;
}

/** Gaps between snapshots that hit bucket edges (0, exactly a unit, one second either side) and skip far. */
const gapArb = fc.oneof(
  fc.constantFrom(0, 1, 2, 59, 60, 61, 600, 3599, 3600, 3601, 86_400),
  fc.integer({ min: 0, max: 200_000 }),
  fc.integer({ min: -30, max: -1 }), // a clock that stepped back
);

const snapshotArb = fc.record({
  kind: fc.constantFrom('zferry_hourly_', 'zferry_daily_', 'manual_', 'zferry_'),
  gap: gapArb,
  txgStep: fc.integer({ min: 1, max: 3 }),
  userrefs: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
});

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    raw: fc.array(snapshotArb, { maxLength: 40, size: 'medium' }),
    // An empty list keeps everything; it needs few runs.
    rules: fc.oneof({ weight: 1, arbitrary: fc.constant<GenRule[]>([]) }, { weight: 12, arbitrary: fc.array(ruleArb, { minLength: 1, maxLength: 4 }) }),
    cursorPicks: fc.array(fc.record({ at: fc.nat(), byGuid: fc.boolean(), missing: fc.boolean() }), { maxLength: 3 }),
    replicates: fc.boolean(),
    // How many snapshots back from the newest the last replication is (mostly the newest or close).
    lastReplicated: fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 5, arbitrary: fc.nat({ max: 3 }) },
      { weight: 1, arbitrary: fc.nat() },
    ),
    ownPrefix: fc.oneof({ weight: 4, arbitrary: fc.constant('zferry_') }, { weight: 1, arbitrary: fc.constant('zferry_hourly_') }),
  })
  .map(({ raw, rules, cursorPicks, replicates, lastReplicated, ownPrefix }) => {
    let creation = 1_700_000_000;
    let txg = 100;
    const snapshots = raw.map((s, i) => {
      creation += s.gap;
      txg += s.txgStep;
      return { name: `${s.kind}${i}`, guid: String(9_000_000 + i), createtxg: txg, creation, userrefs: s.userrefs };
    });
    const cursors = cursorPicks.map((pick, i): PruneCursor => {
      const target = snapshots[pick.at % Math.max(1, snapshots.length)];
      if (target === undefined || pick.missing) return { job: `job${i}`, destination: `local://host/backup${i}`, snapshot: `gone_${i}` };
      return { job: `job${i}`, destination: `local://host/backup${i}`, snapshot: target.name, ...(pick.byGuid ? { guid: target.guid } : {}) };
    });
    // The last replication is one of the snapshots (usually), or none.
    const lastReplicatedTxg =
      lastReplicated === undefined || snapshots.length === 0 ? undefined : snapshots[snapshots.length - 1 - (lastReplicated % snapshots.length)]?.createtxg;
    return { snapshots, rules, cursors, replicates, lastReplicatedTxg, ownPrefix };
  });

function toInput(s: Scenario, snapshots: readonly PruneSnapshot[] = s.snapshots): PruningInput {
  return {
    filesystem: 'tank/data',
    snapshots,
    rules: parseKeepRules(s.rules.map(rawRule), 'keep'),
    cursors: s.cursors,
    replicates: s.replicates,
    lastReplicatedTxg: s.lastReplicatedTxg,
    owns: (name) => name.startsWith(s.ownPrefix),
  };
}

// ---------------------------------------------------------------- the oracle

const olderFirst = (a: PruneSnapshot, b: PruneSnapshot): number => a.creation - b.creation || a.createtxg - b.createtxg;

/** Grid buckets walked one by one: [start, start + length) seconds before the newest match. */
function oracleGrid(rule: Extract<GenRule, { type: 'grid' }>, owned: PruneSnapshot[]): Set<PruneSnapshot> {
  const matches = owned.filter((s) => rule.regex === undefined || new RegExp(rule.regex).test(s.name));
  const kept = new Set<PruneSnapshot>();
  if (matches.length === 0) return kept;
  const anchor = Math.max(...matches.map((s) => s.creation));
  let start = 0;
  for (const interval of rule.intervals) {
    for (let n = 0; n < interval.count; n += 1) {
      const end = start + seconds(interval);
      const inBucket = matches.filter((s) => anchor - s.creation >= start && anchor - s.creation < end).sort(olderFirst);
      for (const s of interval.keep === 'all' ? inBucket : inBucket.slice(0, interval.keep)) kept.add(s);
      start = end;
    }
  }
  return kept;
}

function oracleRule(rule: GenRule, owned: PruneSnapshot[], last: number | undefined): Set<PruneSnapshot> {
  switch (rule.type) {
    case 'grid':
      return oracleGrid(rule, owned);
    case 'last_n': {
      const matches = owned.filter((s) => rule.regex === undefined || new RegExp(rule.regex).test(s.name)).sort(olderFirst);
      return new Set(matches.slice(Math.max(0, matches.length - rule.count)));
    }
    case 'regex':
      return new Set(owned.filter((s) => new RegExp(rule.regex).test(s.name) !== rule.negate));
    case 'not_replicated':
      return new Set(owned.filter((s) => last === undefined || s.createtxg > last || (rule.keepAtCursor && s.createtxg === last)));
  }
}

/** The names the oracle keeps. */
function oracleKept(s: Scenario, snapshots: readonly PruneSnapshot[] = s.snapshots): Set<string> {
  if (s.replicates && s.lastReplicatedTxg === undefined) return new Set(snapshots.map((x) => x.name));
  const owned = snapshots.filter((x) => x.name.startsWith(s.ownPrefix));
  const keep = new Set(snapshots.filter((x) => !x.name.startsWith(s.ownPrefix)).map((x) => x.name));
  if (s.rules.length === 0) return new Set(snapshots.map((x) => x.name));
  for (const rule of s.rules) for (const x of oracleRule(rule, owned, s.lastReplicatedTxg)) keep.add(x.name);
  for (const x of snapshots) {
    if (x.userrefs > 0) keep.add(x.name);
    if (s.lastReplicatedTxg !== undefined && x.createtxg > s.lastReplicatedTxg) keep.add(x.name);
    if (s.cursors.some((c) => (c.guid === undefined ? c.snapshot === x.name : c.guid === x.guid))) keep.add(x.name);
  }
  return keep;
}

const destroyed = (result: PruningResult): Set<string> => new Set(result.decisions.filter((d) => d.action === 'destroy').map((d) => d.snapshot));

// ---------------------------------------------------------------- properties

describe('decidePruning: properties', () => {
  test(`safety and the independent oracle agree on ${RUNS} random histories × rule sets`, () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const result = decidePruning(toInput(s));
        const gone = destroyed(result);
        // One decision per snapshot, oldest first.
        assert.deepEqual(
          result.decisions.map((d) => d.snapshot),
          [...s.snapshots].sort((a, b) => a.createtxg - b.createtxg).map((x) => x.name),
        );
        for (const c of s.cursors) {
          const target = s.snapshots.find((x) => (c.guid === undefined ? x.name === c.snapshot : x.guid === c.guid));
          if (target !== undefined) assert.ok(!gone.has(target.name), `cursor snapshot ${target.name} destroyed`);
        }
        for (const x of s.snapshots) {
          if (x.userrefs > 0) assert.ok(!gone.has(x.name), `held ${x.name} destroyed`);
          if (!x.name.startsWith(s.ownPrefix)) assert.ok(!gone.has(x.name), `not owned ${x.name} destroyed`);
          if (s.lastReplicatedTxg !== undefined && x.createtxg > s.lastReplicatedTxg) assert.ok(!gone.has(x.name), `unreplicated ${x.name} destroyed`);
        }
        if (s.replicates && s.lastReplicatedTxg === undefined) assert.equal(gone.size, 0, 'a never replicated filesystem was pruned');
        // Exactly what the rules and guards say, computed independently.
        const kept = oracleKept(s);
        assert.deepEqual(
          result.decisions.map((d) => `${d.snapshot}:${d.action}`),
          result.decisions.map((d) => `${d.snapshot}:${kept.has(d.snapshot) ? 'keep' : 'destroy'}`),
        );
        for (const d of result.decisions) assert.equal(d.action === 'keep', d.keptBy.length > 0);
      }),
      { numRuns: RUNS },
    );
  });

  test('a grid never keeps more in a bucket than the bucket allows', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const result = decidePruning(toInput(s));
        const perBucket = new Map<string, number>();
        for (const d of result.decisions) {
          for (const r of d.keptBy) {
            if (r.kind !== 'rule' || r.type !== 'grid') continue;
            const key = `${r.rule}/${r.bucket}`;
            perBucket.set(key, (perBucket.get(key) ?? 0) + 1);
          }
        }
        for (const [key, count] of perBucket) {
          const [ruleIndex, bucketIndex] = key.split('/').map(Number) as [number, number];
          const rule = s.rules[ruleIndex];
          assert.ok(rule?.type === 'grid');
          const keep = rule.intervals.flatMap((i) => Array<number | 'all'>(i.count).fill(i.keep))[bucketIndex];
          assert.ok(keep !== undefined, `bucket ${bucketIndex} is not in the grid`);
          if (keep !== 'all') assert.ok(count <= keep, `grid rule ${ruleIndex} bucket ${bucketIndex} keeps ${count} > ${keep}`);
        }
        // And the total a grid keeps (guards aside) never exceeds the sum of its keep counts.
        s.rules.forEach((rule, ruleIndex) => {
          if (rule.type !== 'grid' || rule.intervals.some((i) => i.keep === 'all')) return;
          const total = result.decisions.filter((d) => d.keptBy.some((r) => r.kind === 'rule' && r.rule === ruleIndex)).length;
          assert.ok(total <= rule.intervals.reduce((sum, i) => sum + i.count * (i.keep as number), 0));
        });
      }),
      { numRuns: SECONDARY_RUNS },
    );
  });

  test('deterministic: the order of the listing does not change a decision', () => {
    fc.assert(
      fc.property(
        scenarioArb.chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray(s.snapshots, { minLength: s.snapshots.length }))),
        ([s, shuffled]) => {
          assert.deepEqual(decidePruning(toInput(s, shuffled)), decidePruning(toInput(s)));
        },
      ),
      { numRuns: SECONDARY_RUNS },
    );
  });

  test('idempotent when every grid keeps all of its first bucket (its anchor then stays)', () => {
    const anchoredGrid = (r: GenRule): GenRule =>
      r.type === 'grid' ? { ...r, intervals: [{ count: 1, amount: 1, unit: r.intervals[0]?.unit ?? 's', keep: 'all' }, ...r.intervals] } : r;
    fc.assert(
      fc.property(scenarioArb, (generated) => {
        const s = { ...generated, rules: generated.rules.map(anchoredGrid) };
        const gone = destroyed(decidePruning(toInput(s)));
        const remaining = s.snapshots.filter((x) => !gone.has(x.name));
        const again = decidePruning(toInput(s, remaining));
        assert.deepEqual([...destroyed(again)], []);
      }),
      { numRuns: SECONDARY_RUNS },
    );
  });
});
