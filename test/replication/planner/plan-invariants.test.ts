import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FilesystemVersion } from '../../../replication/zfs/types.js';
import { planFilesystem } from '../../../replication/planner/plan-filesystem.js';
import { describePlan } from '../../../replication/planner/describe.js';
import type { DivergedPolicy, FilesystemPlan, InitialPolicy, PlanOptions, ReplicatePlan } from '../../../replication/planner/types.js';
import { generateHistory, SeededRandom, type GeneratedHistory } from '../../helpers/replication-history.js';

/** An independent glob (via RegExp) so the planner's selection is checked, not reused. */
function referenceSelected(name: string, options: Pick<PlanOptions, 'include' | 'exclude'>): boolean {
  const toRegExp = (glob: string): RegExp =>
    new RegExp(
      `^${glob
        .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      's',
    );
  const include = options.include ?? [];
  const included = include.length === 0 || include.some((g) => toRegExp(g).test(name));
  return included && !(options.exclude ?? []).some((g) => toRegExp(g).test(name));
}

const NOW = new Date(Date.UTC(2026, 10, 23, 10, 53, 0));
const INCLUDES: (string[] | undefined)[] = [undefined, [], ['*'], ['hourly_*'], ['daily_*', 'manual-?'], ['*_1?', 'zferry_*']];
const EXCLUDES: (string[] | undefined)[] = [undefined, undefined, ['manual-*'], ['*1'], ['hourly_*', 'daily_?']];

type Expected =
  | { kind: 'skip' }
  | { kind: 'refuse'; code: 'DIVERGED' | 'NO_COMMON_SNAPSHOT' | 'INITIAL_REFUSED' }
  | { kind: 'up-to-date' }
  | { kind: 'fresh'; forced: boolean }
  | { kind: 'incremental' }
  | { kind: 'rollback' }
  | { kind: 'rename' };

interface Oracle {
  expected: Expected;
  selected: FilesystemVersion[];
  /** Newest common: the source's version (snapshot preferred) and the target's copy. */
  common: { sender: FilesystemVersion; receiver: FilesystemVersion } | undefined;
  diverging: FilesystemVersion[];
  diverged: boolean;
}

const byTxg = (a: FilesystemVersion, b: FilesystemVersion): number => a.createtxg - b.createtxg;

/** The decision table, written out plainly from the rules (not from the planner's code). */
function oracle(h: GeneratedHistory, options: PlanOptions): Oracle {
  const senderSnapshots = h.sender.filter((v) => v.type === 'snapshot').sort(byTxg);
  const selected = senderSnapshots.filter((v) => referenceSelected(v.name, options));
  const none = { selected, common: undefined, diverging: [], diverged: false };
  if (h.receiver === null || !h.receiver.some((v) => v.type === 'snapshot')) {
    if (selected.length === 0) return { ...none, expected: { kind: 'skip' } };
    if (options.initial === 'fail') return { ...none, expected: { kind: 'refuse', code: 'INITIAL_REFUSED' } };
    return { ...none, expected: { kind: 'fresh', forced: h.receiver !== null } };
  }
  const receiverSnapshots = h.receiver.filter((v) => v.type === 'snapshot');
  let common: Oracle['common'];
  for (const s of h.sender) {
    const r = receiverSnapshots.find((x) => x.guid === s.guid);
    if (r === undefined) continue;
    if (common === undefined || s.createtxg > common.sender.createtxg || (s.createtxg === common.sender.createtxg && s.type === 'snapshot')) {
      common = { sender: s, receiver: r };
    }
  }
  if (common === undefined) {
    if (selected.length === 0) return { ...none, expected: { kind: 'skip' } };
    if (options.onDiverged !== 'rename') return { ...none, expected: { kind: 'refuse', code: 'NO_COMMON_SNAPSHOT' } };
    if (options.initial === 'fail') return { ...none, expected: { kind: 'refuse', code: 'INITIAL_REFUSED' } };
    return { ...none, expected: { kind: 'rename' } };
  }
  const c = common;
  const diverging = receiverSnapshots.filter((r) => r.createtxg > c.receiver.createtxg).sort(byTxg);
  const diverged = diverging.length > 0 || h.receiverModifiedSinceLatest === true;
  const base = { selected, common, diverging, diverged };
  if (!diverged) {
    const newer = selected.some((s) => s.createtxg > c.sender.createtxg);
    return { ...base, expected: newer ? { kind: 'incremental' } : { kind: 'up-to-date' } };
  }
  if (options.onDiverged === 'fail') return { ...base, expected: { kind: 'refuse', code: 'DIVERGED' } };
  if (options.onDiverged === 'rollback') return { ...base, expected: { kind: 'rollback' } };
  if (selected.length === 0) return { ...base, expected: { kind: 'refuse', code: 'DIVERGED' } };
  if (options.initial === 'fail') return { ...base, expected: { kind: 'refuse', code: 'INITIAL_REFUSED' } };
  return { ...base, expected: { kind: 'rename' } };
}

function kindOf(plan: FilesystemPlan): Expected['kind'] {
  if (plan.action !== 'replicate') return plan.action;
  if (plan.renameTarget !== undefined) return 'rename';
  if (plan.rollback !== undefined) return 'rollback';
  return plan.common === undefined ? 'fresh' : 'incremental';
}

/**
 * Runs a replicate plan against a model of the target with zfs's receive rules: a full
 * receive needs an absent (or, with -F, empty) filesystem; an incremental needs the target's
 * newest snapshot to be the `from`; `-I` creates every source snapshot in between.
 */
function simulate(h: GeneratedHistory, plan: ReplicatePlan, options: PlanOptions, o: Oracle): Set<string> {
  const senderByGuid = new Map(h.sender.map((v) => [`${v.type}:${v.guid}`, v]));
  const senderSnapshots = h.sender.filter((v) => v.type === 'snapshot').sort(byTxg);
  let state: { guid: string; txg: number }[] | null =
    h.receiver === null ? null : h.receiver.filter((v) => v.type === 'snapshot').map((v) => ({ guid: v.guid, txg: v.createtxg }));
  let txg = 1e9;
  let modified = h.receiverModifiedSinceLatest === true;

  if (plan.renameTarget !== undefined) {
    assert.equal(plan.rollback, undefined, 'rename never destroys');
    assert.equal(plan.renameTarget.to, `${h.target}-diverged-20261123T105300Z`);
    state = null;
    modified = false;
  }
  if (plan.rollback !== undefined) {
    assert.equal(options.onDiverged, 'rollback', 'nothing is destroyed unless onDiverged is rollback');
    assert.ok(o.common);
    assert.equal(plan.rollback.to.guid, o.common.receiver.guid);
    assert.equal(plan.rollback.to.filesystem, h.target);
    const expectedDestroys = (h.receiver ?? [])
      .filter((v) => v.createtxg > o.common!.receiver.createtxg)
      .map((v) => v.fullName)
      .sort();
    assert.deepEqual(plan.rollback.destroys.map((v) => v.fullName).sort(), expectedDestroys);
    for (let i = 1; i < plan.rollback.destroys.length; i += 1) {
      assert.ok(plan.rollback.destroys[i - 1]!.createtxg <= plan.rollback.destroys[i]!.createtxg, 'destroys oldest first');
    }
    const gone = new Set(plan.rollback.destroys.map((v) => v.guid));
    state = (state ?? []).filter((s) => !gone.has(s.guid));
    modified = false;
  }

  const initialState = state;
  assert.equal(plan.forceFullReceive === true, initialState !== null && initialState.length === 0, 'forceFullReceive iff the target exists empty');
  assert.equal(plan.targetExistsWithoutSnapshots === true, plan.forceFullReceive === true);

  let lastTo = -Infinity;
  plan.steps.forEach((step, index) => {
    assert.equal(step.to.type, 'snapshot', 'never send a bookmark as a target');
    assert.equal(senderByGuid.get(`snapshot:${step.to.guid}`), step.to, 'to is a source snapshot');
    assert.ok(step.to.createtxg > lastTo, 'steps in createtxg order');
    lastTo = step.to.createtxg;
    assert.ok(step.snapshots.length >= 1);
    assert.equal(step.snapshots[step.snapshots.length - 1], step.to);
    for (const s of step.snapshots) assert.ok(referenceSelected(s.name, options), `sends only selected snapshots (${s.name})`);
    if (step.from === undefined) {
      assert.equal(step.intermediates, false);
      assert.ok(state === null || state.length === 0, 'full receive only into an absent or empty target');
      if (state !== null) assert.ok(index === 0 && plan.forceFullReceive === true, 'an existing empty target needs recv -F');
      // A full receive replaces whatever the target held; `written` of a filesystem without
      // snapshots is never 0 anyway, so the executor, not the flag, judges emptiness.
      state = [];
      modified = false;
    } else {
      assert.equal(senderByGuid.get(`${step.from.type}:${step.from.guid}`), step.from, 'from is a source version');
      assert.ok(step.from.createtxg < step.to.createtxg);
      assert.ok(state !== null && state.length > 0, 'incremental into an existing target');
      const newest = state.reduce((a, b) => (b.txg > a.txg ? b : a));
      assert.equal(newest.guid, step.from.guid, "from is the target's newest snapshot");
      assert.equal(modified, false, 'no incremental into a modified target');
      if (step.intermediates) {
        assert.equal(step.from.type, 'snapshot', 'send -I needs a snapshot base');
        const between = senderSnapshots.filter((s) => s.createtxg > step.from!.createtxg && s.createtxg <= step.to.createtxg);
        assert.deepEqual(step.snapshots, between, '-I carries exactly the snapshots in between');
        assert.ok(step.snapshots.length >= 2);
      } else {
        assert.deepEqual(step.snapshots, [step.to]);
      }
    }
    for (const s of step.snapshots) {
      assert.ok(!state.some((x) => x.guid === s.guid), 'never send a snapshot the target already has');
      txg += 1;
      state.push({ guid: s.guid, txg });
    }
  });
  if (!options.batch)
    assert.ok(
      plan.steps.every((s) => !s.intermediates),
      'no -I without batch',
    );
  if (options.batch) {
    // Batching is maximal: no two neighbouring steps could have been one -I.
    for (let i = 1; i < plan.steps.length; i += 1) {
      const a = plan.steps[i - 1]!;
      const b = plan.steps[i]!;
      if (a.from === undefined || a.from.type !== 'snapshot') continue;
      const span = senderSnapshots.filter((s) => s.createtxg > a.from!.createtxg && s.createtxg <= b.to.createtxg);
      assert.ok(!span.every((s) => referenceSelected(s.name, options)), 'neighbouring steps could have been one -I');
    }
  }
  return new Set((state ?? []).map((s) => s.guid));
}

function check(h: GeneratedHistory, options: PlanOptions): FilesystemPlan {
  const plan = planFilesystem(h, options);
  const o = oracle(h, options);
  assert.equal(plan.source, h.source);
  assert.equal(plan.target, h.target);
  const kind = kindOf(plan);
  assert.equal(kind, o.expected.kind === 'refuse' ? 'refuse' : o.expected.kind);
  if (o.expected.kind === 'refuse') {
    assert.ok(plan.action === 'refuse');
    assert.equal(plan.error.code, o.expected.code);
    if (o.expected.code === 'DIVERGED') {
      for (const d of o.diverging.slice(0, 10)) assert.ok(plan.error.message.includes(`@${d.name}`), 'names the diverging snapshots');
      assert.ok(plan.error.message.includes('--on-diverged'));
      if (o.diverging.length === 0) assert.ok(plan.error.message.includes(`the target was modified since @${o.common!.receiver.name}`));
      assert.deepEqual(plan.error.divergingSnapshots, o.diverging);
    }
  }
  // Divergence is reported, or resolved by the chosen policy, exactly when it exists.
  const divergenceShown =
    (plan.action === 'refuse' && plan.error.code === 'DIVERGED') ||
    (plan.action === 'refuse' && plan.error.code === 'INITIAL_REFUSED' && plan.error.common !== undefined) ||
    (plan.action === 'replicate' && (plan.rollback !== undefined || (plan.renameTarget !== undefined && o.common !== undefined)));
  assert.equal(divergenceShown, o.diverged, 'diverged iff the target moved past the newest common snapshot');

  if (plan.action === 'up-to-date') {
    assert.equal(plan.common, o.common!.sender);
  }
  if (plan.action !== 'replicate') return plan;
  const final = simulate(h, plan, options, o);
  const selectedNewer =
    kindOf(plan) === 'incremental' || kindOf(plan) === 'rollback'
      ? o.selected.filter((s) => s.createtxg > o.common!.sender.createtxg)
      : options.initial === 'most-recent'
        ? o.selected.slice(-1)
        : o.selected;
  for (const s of selectedNewer) assert.ok(final.has(s.guid), `the target ends with ${s.name}`);
  const sent = plan.steps.flatMap((s) => s.snapshots);
  assert.deepEqual(sent.map((s) => s.guid).sort(), selectedNewer.map((s) => s.guid).sort(), 'sends exactly what is due');
  if (kindOf(plan) === 'incremental' || kindOf(plan) === 'rollback') assert.equal(plan.common, o.common!.sender);
  assert.ok(describePlan(plan).length >= 1 + plan.steps.length);
  return plan;
}

describe('planner invariants on generated histories', () => {
  const INITIALS: InitialPolicy[] = ['all', 'most-recent', 'fail'];
  const DIVERGED: DivergedPolicy[] = ['fail', 'rollback', 'rename'];

  test('hold for every policy combination over 3000 histories', () => {
    const rng = new SeededRandom(0x5eed);
    const seen = new Map<string, number>();
    for (let i = 0; i < 3000; i += 1) {
      const h = generateHistory(rng);
      const include = rng.pick(INCLUDES);
      const exclude = rng.pick(EXCLUDES);
      for (const initial of INITIALS) {
        for (const onDiverged of DIVERGED) {
          for (const batch of [false, true]) {
            const options: PlanOptions = { initial, onDiverged, batch, include, exclude, now: NOW };
            let plan: FilesystemPlan;
            try {
              plan = check(h, options);
            } catch (err) {
              const context = JSON.stringify({ case: i, options, history: h }, null, 1);
              throw new Error(`${(err as Error).message}\n${context}`, { cause: err });
            }
            const key = plan.action === 'refuse' ? `refuse:${plan.error.code}` : kindOf(plan);
            seen.set(key, (seen.get(key) ?? 0) + 1);
          }
        }
      }
    }
    // The generator must actually reach every branch, or the invariants prove little.
    for (const key of [
      'skip',
      'up-to-date',
      'fresh',
      'incremental',
      'rollback',
      'rename',
      'refuse:DIVERGED',
      'refuse:NO_COMMON_SNAPSHOT',
      'refuse:INITIAL_REFUSED',
    ]) {
      assert.ok((seen.get(key) ?? 0) > 50, `branch ${key} reached only ${seen.get(key) ?? 0} times`);
    }
  });

  test('the plan does not depend on the order of the input lists', () => {
    const rng = new SeededRandom(42);
    for (let i = 0; i < 1000; i += 1) {
      const h = generateHistory(rng);
      const options: PlanOptions = {
        initial: rng.pick(INITIALS),
        onDiverged: rng.pick(DIVERGED),
        batch: rng.chance(0.5),
        include: rng.pick(INCLUDES),
        exclude: rng.pick(EXCLUDES),
        now: NOW,
      };
      const shuffled = { ...h, sender: rng.shuffle(h.sender), receiver: h.receiver === null ? null : rng.shuffle(h.receiver) };
      assert.deepEqual(planFilesystem(shuffled, options), planFilesystem(h, options));
    }
  });
});
