/**
 * What each keep rule keeps, rule by rule, over the job's own snapshots. Pure.
 */
import { compareOldestFirst, fitGrid } from './grid.js';
import type { GridSpec } from './grid-spec.js';
import type { KeepRule, SnapshotPattern } from './rules.js';
import type { KeepReason, PruneSnapshot } from './types.js';

/** `24x1h bucket 3/24`: the group as written and the bucket's place in it. */
export function describeBucket(grid: GridSpec, index: number): string {
  const bucket = grid.buckets[index];
  if (bucket === undefined) return `bucket ${index + 1}`;
  return `${bucket.interval.text} bucket ${bucket.indexInInterval}/${bucket.interval.count}`;
}

function matching(snapshots: readonly PruneSnapshot[], pattern: SnapshotPattern | undefined): readonly PruneSnapshot[] {
  return pattern === undefined ? snapshots : snapshots.filter((s) => pattern.regex.test(s.name));
}

/** The snapshots one rule keeps, each with its reason. */
function keepByRule(rule: KeepRule, index: number, snapshots: readonly PruneSnapshot[], lastReplicatedTxg: number | undefined): Map<PruneSnapshot, KeepReason> {
  const kept = new Map<PruneSnapshot, KeepReason>();
  const reason = (text: string, bucket?: number): KeepReason => ({
    kind: 'rule',
    rule: index,
    type: rule.type,
    ...(bucket === undefined ? {} : { bucket }),
    text,
  });
  switch (rule.type) {
    case 'grid':
      for (const [s, bucket] of fitGrid(rule.grid, matching(snapshots, rule.regex))) kept.set(s, reason(`grid ${describeBucket(rule.grid, bucket)}`, bucket));
      break;
    case 'last_n': {
      const newestFirst = [...matching(snapshots, rule.regex)].sort((a, b) => compareOldestFirst(b, a));
      for (const s of newestFirst.slice(0, rule.count)) kept.set(s, reason(`last_n ${rule.count}`));
      break;
    }
    case 'regex':
      for (const s of snapshots)
        if (rule.regex.regex.test(s.name) !== rule.negate) kept.set(s, reason(`regex /${rule.regex.source}/${rule.negate ? ' (negated)' : ''}`));
      break;
    case 'not_replicated':
      for (const s of snapshots) {
        // Without any replication (a snap job) nothing is replicated, so everything is kept.
        if (lastReplicatedTxg === undefined || s.createtxg > lastReplicatedTxg) kept.set(s, reason('not_replicated'));
        else if (rule.keepSnapshotAtCursor && s.createtxg === lastReplicatedTxg) kept.set(s, reason('not_replicated: at the cursor'));
      }
      break;
  }
  return kept;
}

/** Every snapshot some rule keeps, with the reasons of all rules that keep it, in rule order. */
export function keepByRules(
  rules: readonly KeepRule[],
  snapshots: readonly PruneSnapshot[],
  lastReplicatedTxg: number | undefined,
): Map<PruneSnapshot, KeepReason[]> {
  const reasons = new Map<PruneSnapshot, KeepReason[]>();
  rules.forEach((rule, index) => {
    for (const [s, reason] of keepByRule(rule, index, snapshots, lastReplicatedTxg)) {
      const list = reasons.get(s);
      if (list === undefined) reasons.set(s, [reason]);
      else list.push(reason);
    }
  });
  return reasons;
}
