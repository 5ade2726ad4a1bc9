import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FilesystemVersion } from '../../../replication/zfs/types.js';
import { planFilesystem } from '../../../replication/planner/plan-filesystem.js';
import { PlanArgumentError, PlanError } from '../../../replication/planner/errors.js';
import type { FilesystemPlan, PlanInput, PlanOptions, ReplicatePlan, Step } from '../../../replication/planner/types.js';
import { bookmark, received, snapshot } from '../../helpers/replication-history.js';

const SRC = 'tank/a';
const DST = 'backup/a';
const NOW = new Date(Date.UTC(2026, 10, 23, 10, 53, 0));
/** Guids above 2^53, spaced so that none is another's neighbour. */
const guid = (n: number): string => (2n ** 63n + BigInt(n) * 1_000_003n).toString();
const s = (n: number, name = `s${n}`): FilesystemVersion => snapshot(SRC, name, guid(n), n * 10);
const bm = (n: number, name = `b${n}`): FilesystemVersion => bookmark(SRC, name, guid(n), n * 10);
/** The target's copy of s(n). */
const r = (n: number, name = `s${n}`): FilesystemVersion => received(s(n, name), DST, 5000 + n * 10);
/** A snapshot only the target has, taken after its copy of s(n) (names of up to 9 characters). */
const local = (name: string, afterN: number): FilesystemVersion => snapshot(DST, name, guid(900 + afterN * 10 + name.length), 5000 + afterN * 10 + name.length);

function input(sender: FilesystemVersion[], receiver: FilesystemVersion[] | null, modified?: boolean): PlanInput {
  return { source: SRC, target: DST, sender, receiver, receiverModifiedSinceLatest: modified };
}
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const senders = (from: number, to: number): FilesystemVersion[] => range(from, to).map((n) => s(n));

/** Steps as short strings: `full @s1`, `-i @s1 @s2`, `-I @s1 @s4 [s2 s3 s4]`. */
function stepsOf(plan: FilesystemPlan): string[] {
  assert.equal(plan.action, 'replicate', JSON.stringify(plan));
  return plan.steps.map(stepText);
}
function stepText(step: Step): string {
  const sep = (v: FilesystemVersion): string => (v.type === 'bookmark' ? '#' : '@');
  if (step.from === undefined) return `full @${step.to.name}`;
  const base = `${step.intermediates ? '-I' : '-i'} ${sep(step.from)}${step.from.name} @${step.to.name}`;
  return step.intermediates ? `${base} [${step.snapshots.map((x) => x.name).join(' ')}]` : base;
}
function refusal(plan: FilesystemPlan): PlanError {
  assert.equal(plan.action, 'refuse', JSON.stringify(plan));
  const error = plan.error;
  assert.ok(error instanceof PlanError);
  assert.ok(error instanceof Error);
  return error;
}
function replicate(plan: FilesystemPlan): ReplicatePlan {
  assert.equal(plan.action, 'replicate', JSON.stringify(plan));
  return plan;
}

describe('initial replication (target missing)', () => {
  test("'all' (the default) sends the oldest in full, then every newer one with -i", () => {
    const plan = replicate(planFilesystem(input(senders(1, 3), null)));
    assert.deepEqual(stepsOf(plan), ['full @s1', '-i @s1 @s2', '-i @s2 @s3']);
    assert.equal(plan.common, undefined);
    assert.equal(plan.forceFullReceive, undefined);
    assert.equal(plan.targetExistsWithoutSnapshots, undefined);
    assert.equal(plan.source, SRC);
    assert.equal(plan.target, DST);
    assert.match(plan.reason, /initial replication \(all\) to new backup\/a: 3 snapshots in 3 steps/);
  });

  test("'all' with batch sends one -I after the full send", () => {
    assert.deepEqual(stepsOf(planFilesystem(input(senders(1, 4), null), { batch: true })), ['full @s1', '-I @s1 @s4 [s2 s3 s4]']);
  });

  test("'most-recent' sends only the newest selected snapshot, in full", () => {
    const plan = planFilesystem(input(senders(1, 4), null), { initial: 'most-recent', exclude: ['s4'] });
    assert.deepEqual(stepsOf(plan), ['full @s3']);
  });

  test('orders by createtxg, not by name or input order', () => {
    const sender = [snapshot(SRC, 'b', guid(1), 30), snapshot(SRC, 'c', guid(2), 10), snapshot(SRC, 'a', guid(3), 20)];
    assert.deepEqual(stepsOf(planFilesystem(input(sender, null))), ['full @c', '-i @c @a', '-i @a @b']);
  });

  test('bookmarks are never sent', () => {
    const plan = planFilesystem(input([bm(1), s(2), bm(3)], null));
    assert.deepEqual(stepsOf(plan), ['full @s2']);
  });

  test("'fail' refuses with INITIAL_REFUSED", () => {
    const error = refusal(planFilesystem(input(senders(1, 2), null), { initial: 'fail' }));
    assert.equal(error.code, 'INITIAL_REFUSED');
    assert.equal(error.source, SRC);
    assert.equal(error.target, DST);
    assert.match(error.message, /target backup\/a does not exist/);
    assert.match(error.message, /policy is 'fail'/);
    assert.match(error.message, /--initial all or --initial most-recent/);
  });

  test('filters decide what is sent; the full send starts at the oldest selected', () => {
    const plan = planFilesystem(input([s(1, 'manual'), s(2, 'hourly_1'), s(3, 'daily_1'), s(4, 'hourly_2')], null), {
      include: ['hourly_*'],
    });
    assert.deepEqual(stepsOf(plan), ['full @hourly_1', '-i @hourly_1 @hourly_2']);
  });
});

describe('target exists without snapshots', () => {
  test('full receive with -F, flagged so the executor checks the target is empty', () => {
    const plan = replicate(planFilesystem(input(senders(1, 2), [])));
    assert.deepEqual(stepsOf(plan), ['full @s1', '-i @s1 @s2']);
    assert.equal(plan.forceFullReceive, true);
    assert.equal(plan.targetExistsWithoutSnapshots, true);
    assert.match(plan.reason, /into existing backup\/a, which has no snapshots/);
  });

  test('target bookmarks do not count as snapshots', () => {
    const plan = replicate(planFilesystem(input(senders(1, 1), [bookmark(DST, 'old', guid(1), 7)]), { initial: 'most-recent' }));
    assert.equal(plan.forceFullReceive, true);
    assert.deepEqual(stepsOf(plan), ['full @s1']);
  });

  test("'fail' says the target exists but has no snapshots", () => {
    const error = refusal(planFilesystem(input(senders(1, 2), []), { initial: 'fail' }));
    assert.equal(error.code, 'INITIAL_REFUSED');
    assert.match(error.message, /target backup\/a exists but has no snapshots/);
  });
});

describe('nothing selected on the source', () => {
  test('no snapshots at all: skip with NO_SNAPSHOTS', () => {
    const plan = planFilesystem(input([], null));
    assert.deepEqual(plan, { action: 'skip', source: SRC, target: DST, code: 'NO_SNAPSHOTS', reason: 'nothing to send: tank/a has no snapshots' });
  });

  test('only bookmarks: skip', () => {
    assert.equal(planFilesystem(input([bm(1)], [])).action, 'skip');
  });

  test('filters match nothing: skip, saying so', () => {
    const plan = planFilesystem(input(senders(1, 3), null), { include: ['daily_*'], initial: 'fail' });
    assert.equal(plan.action, 'skip');
    assert.match((plan as { reason: string }).reason, /none of the 3 snapshots of tank\/a matches the snapshot filters/);
  });

  test('target with unrelated snapshots and nothing to send: skip, mentioning it', () => {
    const plan = planFilesystem(input([], [local('x', 1)]));
    assert.equal(plan.action, 'skip');
    assert.match((plan as { reason: string }).reason, /share no guid/);
  });
});

describe('incremental from the newest common snapshot', () => {
  test('nothing newer: up-to-date, with the common snapshot', () => {
    const plan = planFilesystem(input(senders(1, 3), [r(1), r(2), r(3)]));
    assert.deepEqual(plan, { action: 'up-to-date', source: SRC, target: DST, common: s(3) });
  });

  test('only unselected snapshots newer: up-to-date', () => {
    const plan = planFilesystem(input(senders(1, 4), [r(1), r(3)]), { exclude: ['s4'] });
    assert.equal(plan.action, 'up-to-date');
  });

  test('-i per step from the newest common one', () => {
    const plan = replicate(planFilesystem(input(senders(1, 5), [r(1), r(2)])));
    assert.deepEqual(stepsOf(plan), ['-i @s2 @s3', '-i @s3 @s4', '-i @s4 @s5']);
    assert.deepEqual(plan.common, s(2));
    assert.equal(plan.rollback, undefined);
    assert.equal(plan.renameTarget, undefined);
    assert.equal(plan.reason, 'incremental from @s2: 3 snapshots in 3 steps');
  });

  test('batch: one -I step', () => {
    assert.deepEqual(stepsOf(planFilesystem(input(senders(1, 5), [r(2)]), { batch: true })), ['-I @s2 @s5 [s3 s4 s5]']);
  });

  test('batch with a single newer snapshot is a plain -i', () => {
    assert.deepEqual(stepsOf(planFilesystem(input(senders(1, 3), [r(2)]), { batch: true })), ['-i @s2 @s3']);
  });

  test('batch never carries an unselected snapshot: -I splits around it with a -i', () => {
    const plan = planFilesystem(input(senders(1, 7), [r(1)]), { batch: true, exclude: ['s4'] });
    assert.deepEqual(stepsOf(plan), ['-I @s1 @s3 [s2 s3]', '-i @s3 @s5', '-I @s5 @s7 [s6 s7]']);
  });

  test('batch with an unselected snapshot right after the common one starts with a -i', () => {
    const plan = planFilesystem(input(senders(1, 5), [r(1)]), { batch: true, exclude: ['s2'] });
    assert.deepEqual(stepsOf(plan), ['-i @s1 @s3', '-I @s3 @s5 [s4 s5]']);
  });

  test('without batch, unselected snapshots are simply jumped over', () => {
    const plan = planFilesystem(input(senders(1, 5), [r(1)]), { include: ['s1', 's3', 's5'] });
    assert.deepEqual(stepsOf(plan), ['-i @s1 @s3', '-i @s3 @s5']);
  });

  test('a common snapshot the filters exclude is still a valid base', () => {
    const plan = planFilesystem(input([s(1, 'manual'), s(2, 'hourly_1'), s(3, 'hourly_2')], [r(1, 'manual')]), { include: ['hourly_*'] });
    assert.deepEqual(stepsOf(plan), ['-i @manual @hourly_1', '-i @hourly_1 @hourly_2']);
  });

  test('a source bookmark serves as the base when its snapshot is gone; -I only after it', () => {
    const plan = replicate(planFilesystem(input([s(1), bm(2), s(3), s(4), s(5)], [r(1), r(2)]), { batch: true }));
    assert.deepEqual(stepsOf(plan), ['-i #b2 @s3', '-I @s3 @s5 [s4 s5]']);
    assert.deepEqual(plan.common, bm(2));
  });

  test('when a snapshot and its bookmark both exist, the snapshot is the base', () => {
    const plan = replicate(planFilesystem(input([bm(2), s(2), s(3), s(4)], [r(2)]), { batch: true }));
    assert.deepEqual(stepsOf(plan), ['-I @s2 @s4 [s3 s4]']);
    assert.deepEqual(plan.common, s(2));
  });

  test('identity is the guid: a renamed snapshot is still common, a same-named one is not', () => {
    const renamedOnTarget = received(s(2), DST, 6000);
    const impostor = snapshot(DST, 's3', guid(777), 6001);
    const plan = replicate(planFilesystem(input(senders(1, 4), [{ ...renamedOnTarget, name: 'kept', fullName: `${DST}@kept` }])));
    assert.deepEqual(stepsOf(plan), ['-i @s2 @s3', '-i @s3 @s4']);
    const clash = planFilesystem(input(senders(1, 4), [impostor]));
    assert.equal(refusal(clash).code, 'NO_COMMON_SNAPSHOT');
  });

  test('guids that differ beyond 2^53 are different (compared exactly, as strings)', () => {
    const big = 2n ** 60n + 1n;
    const sender = [snapshot(SRC, 'x', big.toString(), 10), snapshot(SRC, 'y', (big + 10n).toString(), 20)];
    const twin = snapshot(DST, 'x', (big + 1n).toString(), 100);
    assert.equal(Number(twin.guid), Number(sender[0]!.guid), 'the test needs guids a JS number cannot tell apart');
    assert.equal(refusal(planFilesystem(input(sender, [twin]))).code, 'NO_COMMON_SNAPSHOT');
    assert.deepEqual(stepsOf(planFilesystem(input(sender, [received(sender[0]!, DST, 100)]))), ['-i @x @y']);
  });

  test('older target snapshots missing, or source snapshots older than the common one, change nothing', () => {
    const plan = planFilesystem(input([s(2), s(4), s(5)], [r(1), r(4)]));
    assert.deepEqual(stepsOf(plan), ['-i @s4 @s5']);
  });

  test('receiverModifiedSinceLatest false or unknown is not a divergence', () => {
    assert.deepEqual(stepsOf(planFilesystem(input(senders(1, 2), [r(1)], false))), ['-i @s1 @s2']);
    assert.deepEqual(stepsOf(planFilesystem(input(senders(1, 2), [r(1)], undefined))), ['-i @s1 @s2']);
  });
});

describe('diverged target', () => {
  const diverged = (): PlanInput => input(senders(1, 4), [r(1), r(2), local('x', 2), local('yy', 2)]);

  test('refused by default with DIVERGED, naming the newer target snapshots', () => {
    const error = refusal(planFilesystem(diverged()));
    assert.equal(error.code, 'DIVERGED');
    assert.equal(
      error.message,
      'target backup/a has diverged from tank/a: it has snapshots newer than the newest common snapshot @s2: @x, @yy. ' +
        'Resolve with --on-diverged rollback (destroys @x, @yy on the target) or --on-diverged rename ' +
        '(keeps the target intact under a new name and replicates fresh).',
    );
    assert.deepEqual(error.common, r(2));
    assert.deepEqual(
      error.divergingSnapshots.map((v) => v.name),
      ['x', 'yy'],
    );
    assert.equal(error.targetModified, false);
  });

  test('diverged even with nothing newer to send', () => {
    const error = refusal(planFilesystem(input(senders(1, 2), [r(1), r(2), local('x', 2)])));
    assert.equal(error.code, 'DIVERGED');
  });

  test('a target modified since the common (and newest) snapshot is diverged', () => {
    const error = refusal(planFilesystem(input(senders(1, 3), [r(1), r(2)], true)));
    assert.equal(error.code, 'DIVERGED');
    assert.equal(error.targetModified, true);
    assert.deepEqual(error.divergingSnapshots, []);
    assert.match(error.message, /the target was modified since @s2/);
    assert.match(error.message, /--on-diverged rollback \(discards the changes made on the target since @s2\)/);
    assert.match(error.message, /--on-diverged rename/);
  });

  test('with newer target snapshots, the modification flag is about those, not the common one', () => {
    const error = refusal(planFilesystem({ ...diverged(), receiverModifiedSinceLatest: true }));
    assert.equal(error.targetModified, false);
    assert.match(error.message, /@x, @yy/);
  });

  test('long lists are cut in the message but complete in the error', () => {
    const extra = range(1, 15).map((i) => snapshot(DST, `e${i}`, guid(2000 + i), 6000 + i));
    const error = refusal(planFilesystem(input(senders(1, 2), [r(1), ...extra])));
    assert.match(error.message, /@e1, @e2, .*@e10 and 5 more\./);
    assert.equal(error.divergingSnapshots.length, 15);
  });

  test("'rollback': roll back to the common snapshot, listing what is destroyed, then incrementals", () => {
    const targetBookmark = bookmark(DST, 'tb', guid(950), 5023);
    const plan = replicate(planFilesystem({ ...diverged(), receiver: [...diverged().receiver!, targetBookmark] }, { onDiverged: 'rollback' }));
    assert.deepEqual(plan.rollback?.to, r(2));
    assert.deepEqual(
      plan.rollback?.destroys.map((v) => v.fullName),
      ['backup/a@x', 'backup/a@yy', 'backup/a#tb'],
    );
    assert.deepEqual(stepsOf(plan), ['-i @s2 @s3', '-i @s3 @s4']);
    assert.deepEqual(plan.common, s(2));
    assert.equal(plan.renameTarget, undefined);
    assert.match(plan.reason, /diverged after @s2: rolling back backup\/a to it, destroying @x, @yy, #tb; then incremental: 2 snapshots/);
  });

  test("'rollback' of a modified target destroys nothing", () => {
    const plan = replicate(planFilesystem(input(senders(1, 3), [r(1), r(2)], true), { onDiverged: 'rollback', batch: true }));
    assert.deepEqual(plan.rollback, { to: r(2), destroys: [] });
    assert.deepEqual(stepsOf(plan), ['-i @s2 @s3']);
    assert.match(plan.reason, /discarding changes made since it/);
  });

  test("'rollback' with nothing newer to send still resolves the divergence", () => {
    const plan = replicate(planFilesystem(input(senders(1, 2), [r(1), r(2), local('x', 2)]), { onDiverged: 'rollback' }));
    assert.deepEqual(plan.steps, []);
    assert.equal(plan.rollback?.destroys.length, 1);
    assert.match(plan.reason, /nothing newer to send/);
  });

  test("'rename': move the target aside (nothing destroyed), then replicate fresh by the initial policy", () => {
    const plan = replicate(planFilesystem(diverged(), { onDiverged: 'rename', now: NOW }));
    assert.deepEqual(plan.renameTarget, { to: 'backup/a-diverged-20261123T105300Z' });
    assert.equal(plan.rollback, undefined);
    assert.equal(plan.common, undefined);
    assert.equal(plan.forceFullReceive, undefined);
    assert.deepEqual(stepsOf(plan), ['full @s1', '-i @s1 @s2', '-i @s2 @s3', '-i @s3 @s4']);
    assert.match(plan.reason, /target backup\/a diverged after @s2: keeping it as backup\/a-diverged-20261123T105300Z/);
    const recent = planFilesystem(diverged(), { onDiverged: 'rename', initial: 'most-recent', now: NOW });
    assert.deepEqual(stepsOf(recent), ['full @s4']);
  });

  test("'rename' with initial 'fail' refuses (INITIAL_REFUSED) instead of renaming", () => {
    const error = refusal(planFilesystem(diverged(), { onDiverged: 'rename', initial: 'fail', now: NOW }));
    assert.equal(error.code, 'INITIAL_REFUSED');
    assert.match(error.message, /^target backup\/a has diverged from tank\/a: .*@x, @yy\./);
    assert.match(error.message, /--on-diverged rename would replicate tank\/a fresh with a full send, which the initial replication policy 'fail' forbids/);
    assert.deepEqual(error.common, r(2));
    assert.equal(error.divergingSnapshots.length, 2);
  });

  test("'rename' with no selected snapshot to replicate refuses rather than leave the name empty", () => {
    const error = refusal(planFilesystem(diverged(), { onDiverged: 'rename', include: ['none'], now: NOW }));
    assert.equal(error.code, 'DIVERGED');
    assert.match(error.message, /--on-diverged rename cannot resolve this: tank\/a has no selected snapshot/);
  });
});

describe('target with snapshots but none in common', () => {
  const unrelated = (): PlanInput => input(senders(1, 3), [snapshot(DST, 'old1', guid(801), 10), snapshot(DST, 'old2', guid(802), 20)]);

  test('refused with NO_COMMON_SNAPSHOT, naming the target newest and suggesting a way out', () => {
    const error = refusal(planFilesystem(unrelated()));
    assert.equal(error.code, 'NO_COMMON_SNAPSHOT');
    assert.equal(
      error.message,
      "target backup/a has snapshots but none in common with tank/a: no guid of the target's snapshots " +
        '(newest: backup/a@old2) matches a snapshot or bookmark of the source. Use --on-diverged rename to keep ' +
        'the target aside and replicate fresh, or destroy or rename backup/a by hand.',
    );
    assert.equal(error.targetNewest?.fullName, 'backup/a@old2');
  });

  test("'rollback' cannot resolve it and says so", () => {
    const error = refusal(planFilesystem(unrelated(), { onDiverged: 'rollback' }));
    assert.equal(error.code, 'NO_COMMON_SNAPSHOT');
    assert.match(error.message, /--on-diverged rollback cannot resolve this: there is no common snapshot to roll back to/);
  });

  test("'rename' keeps it aside and replicates fresh", () => {
    const plan = replicate(planFilesystem(unrelated(), { onDiverged: 'rename', now: NOW, batch: true }));
    assert.deepEqual(plan.renameTarget, { to: 'backup/a-diverged-20261123T105300Z' });
    assert.deepEqual(stepsOf(plan), ['full @s1', '-I @s1 @s3 [s2 s3]']);
    assert.match(plan.reason, /shares no snapshot with tank\/a/);
  });

  test("'rename' with initial 'fail' refuses", () => {
    const error = refusal(planFilesystem(unrelated(), { onDiverged: 'rename', initial: 'fail', now: NOW }));
    assert.equal(error.code, 'INITIAL_REFUSED');
    assert.match(error.message, /none in common .* --on-diverged rename would replicate/);
  });

  test('a target bookmark with a source guid does not make a common snapshot', () => {
    const error = refusal(planFilesystem(input(senders(1, 2), [bookmark(DST, 'b1', guid(1), 5), snapshot(DST, 'z', guid(803), 9)])));
    assert.equal(error.code, 'NO_COMMON_SNAPSHOT');
  });
});

describe('options', () => {
  test("'rename' without options.now is a programming error, caught up front", () => {
    assert.throws(() => planFilesystem(input(senders(1, 2), null), { onDiverged: 'rename' }), PlanArgumentError);
    assert.throws(() => planFilesystem(input([], null), { onDiverged: 'rename', now: new Date(Number.NaN) }), /needs options\.now/);
  });

  test('unknown policy values (e.g. from a config file) are refused', () => {
    const bad = { initial: 'newest' } as unknown as Partial<PlanOptions>;
    assert.throws(() => planFilesystem(input([], null), bad), /unknown initial policy "newest"/);
    const worse = { onDiverged: 'destroy' } as unknown as Partial<PlanOptions>;
    assert.throws(
      () => planFilesystem(input([], null), worse),
      (err: unknown) => err instanceof PlanArgumentError && err.code === 'INVALID_ARGUMENT',
    );
  });

  test('defaults: initial all, refuse divergence, no batching', () => {
    assert.deepEqual(stepsOf(planFilesystem(input(senders(1, 3), null), {})), ['full @s1', '-i @s1 @s2', '-i @s2 @s3']);
    assert.equal(refusal(planFilesystem(input(senders(1, 3), [r(1), local('x', 1)]))).code, 'DIVERGED');
  });

  test('the inputs are not modified', () => {
    const sender = [s(3), s(1), s(2)];
    const receiver = [r(2), r(1)];
    const before = JSON.stringify([sender, receiver]);
    planFilesystem(input(sender, receiver), { batch: true });
    assert.equal(JSON.stringify([sender, receiver]), before);
  });
});
