/**
 * Which snapshots of one filesystem, on one side, pruning destroys: lists in, decisions out.
 * A snapshot is kept if any rule keeps it (zrepl's semantics); then the guards keep, whatever
 * the rules say, the newest snapshot common with every destination (its cursor), held
 * snapshots, and snapshots newer than the last replication; and nothing the job does not own
 * is destroyed at all. Rules see only the job's own snapshots, so a hand-made snapshot neither
 * takes a `last_n` place nor moves a grid's anchor. Pure and deterministic.
 */
import { keepByRules } from './keep.js';
import type { KeepReason, PruneSnapshot, PruningDecision, PruningInput, PruningResult } from './types.js';

function byTxg(a: PruneSnapshot, b: PruneSnapshot): number {
  return a.createtxg - b.createtxg || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function guard(guard: Extract<KeepReason, { kind: 'guard' }>['guard'], text: string): KeepReason {
  return { kind: 'guard', guard, text };
}

function decision(snapshot: PruneSnapshot, keptBy: KeepReason[]): PruningDecision {
  const first = keptBy[0];
  return {
    snapshot: snapshot.name,
    guid: snapshot.guid,
    createtxg: snapshot.createtxg,
    creation: snapshot.creation,
    action: first === undefined ? 'destroy' : 'keep',
    reason: first === undefined ? 'no rule keeps it' : first.text,
    keptBy,
  };
}

export function decidePruning(input: PruningInput): PruningResult {
  const snapshots = [...input.snapshots].sort(byTxg);
  const notes: string[] = [];
  const result = (decisions: PruningDecision[]): PruningResult => ({
    filesystem: input.filesystem,
    decisions,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  });

  if (input.replicates && input.lastReplicatedTxg === undefined) {
    notes.push('never replicated: pruning leaves it alone until its first replication');
    return result(snapshots.map((s) => decision(s, [guard('never_replicated', 'never replicated: left alone')])));
  }

  const owned = snapshots.filter((s) => input.owns(s.name));
  const ruleReasons = input.rules.length === 0 ? new Map<PruneSnapshot, KeepReason[]>() : keepByRules(input.rules, owned, input.lastReplicatedTxg);
  if (input.rules.length === 0) notes.push('no keep rules: pruning keeps everything');

  const cursorGuards = new Map<PruneSnapshot, KeepReason[]>();
  for (const cursor of [...input.cursors].sort((a, b) => (a.job + a.destination < b.job + b.destination ? -1 : 1))) {
    const target = snapshots.find((s) => (cursor.guid === undefined ? s.name === cursor.snapshot : s.guid === cursor.guid));
    const text = `newest common with ${cursor.destination} (job ${cursor.job})`;
    if (target === undefined) {
      notes.push(`the cursor of job ${cursor.job} for ${cursor.destination} names @${cursor.snapshot}, which is not on the filesystem`);
      continue;
    }
    cursorGuards.set(target, [...(cursorGuards.get(target) ?? []), guard('newest_common', text)]);
  }

  return result(
    snapshots.map((s) => {
      if (!input.owns(s.name)) return decision(s, [guard('not_owned', 'not owned by this job')]);
      const keptBy = [...(ruleReasons.get(s) ?? [])];
      if (input.rules.length === 0) keptBy.push(guard('no_rules', 'no keep rules'));
      keptBy.push(...(cursorGuards.get(s) ?? []));
      if (s.userrefs > 0) keptBy.push(guard('held', `held (${s.userrefs} hold${s.userrefs === 1 ? '' : 's'})`));
      if (input.lastReplicatedTxg !== undefined && s.createtxg > input.lastReplicatedTxg) {
        keptBy.push(guard('newer_than_last_replication', 'newer than the last replication'));
      }
      return decision(s, keptBy);
    }),
  );
}
