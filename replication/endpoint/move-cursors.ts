/**
 * Moving replication cursors. Per filesystem, a move from base `c` to base `n` is:
 *   1. set the cursor property to `c,n` (n is about to carry the hold; the cursor is still c)
 *   2. hold n under the job's tag
 *   3. release the tag from c (and from anything else the value names)
 *   4. set the property to `n`
 * Invariants kept at every step: each snapshot carrying the tag's hold is named in its
 * filesystem's record, and a settled record's cursor carries the hold. A move that dies
 * halfway (killed, pool busy) therefore leaks nothing and claims nothing: the next move starts
 * from the value it left and releases what that names. A half-done value is not "settled", so
 * the job redoes the move even when nothing is new.
 *
 * A record is a value set locally (cursor.ts): an inherited value only names what to release.
 * Below a recursive job's root the local value is AS_PARENT, "as my parent's", written by a
 * move whose recursive hold covered the filesystem.
 *
 * Fast path: when every filesystem of a tree moves to one snapshot (the usual recursive job),
 * the sets go on the root, with `hold -r` and `release -r`: four transactions for the whole
 * tree (and, the first time, one `zfs set` of AS_PARENT below the root). Otherwise each moving
 * filesystem gets a value of its own: a transaction per filesystem and step.
 *
 * Taking over from former tags (the same job and destination, named as earlier versions named
 * it): only after the move, when the current tag holds every moving filesystem's base, are the
 * former tag's holds on those filesystems released and their values removed (`zfs inherit`),
 * in that order, so that a move dying halfway leaves each remaining hold recorded. What does
 * not move keeps its former record (as its own value, where it came from a moving ancestor).
 */

import { DatasetNotFoundError, HoldExistsError, HoldNotFoundError, isAtOrBelow, parentOf, type ZfsDriver } from '../zfs/index.js';
import {
  AS_PARENT,
  cursorProperty,
  formatCursorValue,
  heldCandidates,
  parseCursorValue,
  recordedCursor,
  resolveCursors,
  settledCursor,
  type RecordedCursor,
  type StoredCursor,
} from './cursor.js';
import { CursorOutsideTreeError } from './errors.js';

export interface CursorMove {
  filesystem: string;
  /** Short name of the new base snapshot. */
  snapshot: string;
}

/** Every filesystem at and below `root`, listed just before the move. */
interface CursorTree {
  root: string;
  filesystems: readonly string[];
}

/** What each filesystem read stores (undefined: nothing that counts). */
type Stored = Map<string, StoredCursor | undefined>;

/** One filesystem's move, worked out from its record. */
interface Change extends CursorMove {
  /** The value naming the old holds and the new one, written before the hold. */
  intent: string;
  /** Snapshots whose hold the move gives up. */
  release: string[];
}

/**
 * `root`: the moves belong to a recursive job under it. The tree is then listed here (not taken
 * from the caller) so that a recursive hold can never reach a filesystem nobody moves.
 * `formerTags`: the job's tags under earlier names of its destination (identity.ts); once `tag`
 * holds a moving filesystem's base, their holds on it go and so do their records.
 */
export async function moveCursors(
  driver: ZfsDriver,
  tag: string,
  moves: readonly CursorMove[],
  root?: string,
  formerTags: readonly string[] = [],
): Promise<{ released: number }> {
  const property = cursorProperty(tag);
  const formers = [...new Set(formerTags)].filter((former) => former !== tag).map((former) => ({ tag: former, property: cursorProperty(former) }));
  const moving = [...new Set(moves.map((m) => m.filesystem))];
  const outside = root === undefined ? undefined : moving.find((fs) => !isAtOrBelow(fs, root));
  if (outside !== undefined) throw new CursorOutsideTreeError(outside, root ?? '');
  // Whose records the move may change: the tree, or what lies below each moving filesystem
  // (it may follow or inherit it). The listing and the records are both reads: run them together.
  const scopes = root === undefined ? moving : [root];
  const listing = Promise.all(scopes.map((scope) => driver.listFilesystems(scope, { recursive: true })));
  listing.catch(() => undefined);
  // A record stored as the parent's needs the parent's, up to the first value of its own.
  const properties = [property, ...formers.map((former) => former.property)];
  const read = await readStored(driver, properties, withAncestors(moving));
  const stored = read.get(property) ?? new Map<string, StoredCursor | undefined>();
  const records = resolveCursors(stored);
  const changes = moves.flatMap((move) => changeOf(move, records.get(move.filesystem)));
  // A former tag matters where a moving filesystem has a record of it, however stored.
  const recorded = formers.filter((former) => {
    const formerStored = read.get(former.property) ?? new Map<string, StoredCursor | undefined>();
    const formerRecords = resolveCursors(formerStored);
    return moving.some((fs) => formerRecords.has(fs) || isSetHere(formerStored.get(fs)));
  });
  if (changes.length === 0 && recorded.length === 0) return { released: 0 };

  const reach = [...new Set((await listing).flat())];
  const wholeTree = root !== undefined && changes.length > 0 && isWholeTreeMove(reach, moves);
  const movingSet = new Set(moving);
  const treeMoves = root !== undefined && reach.every((fs) => movingSet.has(fs));
  // One by one: what stays put must be known too, to keep its record when an ancestor moves.
  if ((changes.length > 0 && !wholeTree) || (recorded.length > 0 && !treeMoves)) {
    const rest = await readStored(
      driver,
      properties,
      reach.filter((fs) => !stored.has(fs)),
    );
    for (const [name, values] of rest) for (const [fs, entry] of values) read.get(name)?.set(fs, entry);
  }
  let released = 0;
  if (wholeTree) released += (await moveTree(driver, tag, property, { root, filesystems: reach }, changes, stored)).released;
  else if (changes.length > 0) released += (await moveEach(driver, tag, property, changes, stored)).released;
  for (const former of recorded) {
    const formerStored = read.get(former.property) ?? new Map<string, StoredCursor | undefined>();
    released += treeMoves
      ? await dropFormerTree(driver, former, { root, filesystems: reach }, formerStored)
      : await dropFormerEach(driver, former, movingSet, formerStored);
  }
  return { released };
}

/** Each property's entries on each of `names`, in one `zfs get`. */
async function readStored(driver: ZfsDriver, properties: readonly string[], names: string[]): Promise<Map<string, Stored>> {
  const values = await driver.getPropertiesOf(names, [...properties]);
  return new Map(properties.map((property) => [property, new Map(names.map((name) => [name, recordedCursor(values.get(name)?.[property])]))]));
}

/** The names and all their ancestors. */
function withAncestors(names: readonly string[]): string[] {
  const all = new Set<string>();
  for (const name of names) {
    for (let fs: string | undefined = name; fs !== undefined && !all.has(fs); fs = parentOf(fs)) all.add(fs);
  }
  return [...all];
}

/** Nothing to do when the record is settled on the new base; else the change. */
function changeOf(move: CursorMove, record: RecordedCursor | undefined): Change[] {
  if (record !== undefined && record.snapshot === move.snapshot && record.pending.length === 0) return [];
  return [
    {
      ...move,
      intent: formatCursorValue(record?.snapshot, [...(record?.pending ?? []), move.snapshot]),
      release: heldCandidates(record).filter((name) => name !== move.snapshot),
    },
  ];
}

/** Whether a filesystem already stores `value` as its own. */
function storesOwn(entry: StoredCursor | undefined, value: string): boolean {
  return entry?.storage === 'own' && formatCursorValue(entry.snapshot, entry.pending) === value;
}

/**
 * The tree moves as a whole when every filesystem in it (the endpoint's own listing, all
 * within the root) moves to one snapshot, whatever each one's record says now.
 */
function isWholeTreeMove(filesystems: readonly string[], moves: readonly CursorMove[]): boolean {
  if (moves.length !== new Set(filesystems).size) return false;
  const moving = new Set(moves.map((m) => m.filesystem));
  return filesystems.every((fs) => moving.has(fs)) && new Set(moves.map((m) => m.snapshot)).size === 1;
}

async function moveTree(driver: ZfsDriver, tag: string, property: string, tree: CursorTree, changes: Change[], stored: Stored): Promise<{ released: number }> {
  const [{ snapshot }] = changes as [Change, ...Change[]];
  const records = resolveCursors(stored);
  // The root's value names whatever any filesystem of the tree may hold: each one follows it.
  const candidates = [...new Set(tree.filesystems.flatMap((fs) => heldCandidates(records.get(fs))))];
  let intent = formatCursorValue(records.get(tree.root)?.snapshot, [...candidates, snapshot]);
  // Never settled before the hold: some filesystem that is to follow the root is not held yet.
  if (settledCursor(parseCursorValue(intent)) !== undefined) intent = formatCursorValue(undefined, [snapshot]);
  if (!storesOwn(stored.get(tree.root), intent)) await driver.setUserPropertyOn([tree.root], property, intent);
  // From now on every filesystem below follows the root (a value of its own would hide the root's).
  const notFollowing = tree.filesystems.filter((fs) => fs !== tree.root && stored.get(fs)?.storage !== 'as-parent');
  if (notFollowing.length > 0) await driver.setUserPropertyOn(notFollowing, property, AS_PARENT);
  if (changes.length === tree.filesystems.length) {
    try {
      await driver.hold(tag, [`${tree.root}@${snapshot}`], { recursive: true });
    } catch (error) {
      // Some snapshot already carries the tag (a move that died after its hold): one by one.
      if (!(error instanceof HoldExistsError)) throw error;
      await holdEach(driver, tag, changes);
    }
  } else {
    // Some already hold the new base (their record is settled on it): the others one by one.
    await holdEach(driver, tag, changes);
  }
  let released = 0;
  for (const name of candidates.filter((candidate) => candidate !== snapshot)) {
    try {
      await driver.release(tag, [`${tree.root}@${name}`], { recursive: true });
      released += changes.length;
    } catch (error) {
      // Some filesystem's hold or snapshot is gone already (by hand, or a move that died): one by one.
      if (!isGone(error)) throw error;
      released += await eachOrAll(
        changes.map((c) => `${c.filesystem}@${name}`),
        (snapshots) => driver.release(tag, snapshots),
        isGone,
      );
    }
  }
  await driver.setUserPropertyOn([tree.root], property, formatCursorValue(snapshot));
  return { released };
}

async function moveEach(driver: ZfsDriver, tag: string, property: string, changes: Change[], stored: Stored): Promise<{ released: number }> {
  // A filesystem that stays put but whose record comes from a moving ancestor (as its parent's,
  // or inherited) keeps that record as a value of its own.
  const moving = new Set(changes.map((c) => c.filesystem));
  const pinned = [...resolveCursors(stored)]
    .filter(([filesystem, record]) => record.storage !== 'own' && !moving.has(filesystem) && hasMovingAncestor(filesystem, moving))
    .map(([filesystem, record]) => ({ filesystem, value: formatCursorValue(record.snapshot, record.pending) }));
  await setValues(driver, property, pinned);
  // Every moving filesystem gets its own value, so an ancestor's later sets cannot change what it reads.
  await setValues(
    driver,
    property,
    changes.filter((c) => !storesOwn(stored.get(c.filesystem), c.intent)).map((c) => ({ filesystem: c.filesystem, value: c.intent })),
  );
  await holdEach(driver, tag, changes);
  const stale = changes.flatMap((c) => c.release.map((name) => `${c.filesystem}@${name}`));
  // Already gone (destroyed by hand after a release, or renamed): nothing left to protect.
  const released = await eachOrAll(stale, (snapshots) => driver.release(tag, snapshots), isGone);
  await setValues(
    driver,
    property,
    changes.map((c) => ({ filesystem: c.filesystem, value: formatCursorValue(c.snapshot) })),
  );
  return { released };
}

/** A tag the job used under an earlier name of its destination, and its property. */
interface Former {
  tag: string;
  property: string;
}

/**
 * A former tag on a tree that moves as a whole, once the current tag holds every base: a
 * recursive release per snapshot it may hold, then one `zfs inherit` of every value set here.
 */
async function dropFormerTree(driver: ZfsDriver, former: Former, tree: CursorTree, stored: Stored): Promise<number> {
  const records = resolveCursors(stored);
  const holders = new Map<string, string[]>();
  for (const fs of tree.filesystems) {
    for (const name of heldCandidates(records.get(fs))) holders.set(name, [...(holders.get(name) ?? []), fs]);
  }
  let released = 0;
  for (const [name, filesystems] of holders) {
    try {
      await driver.release(former.tag, [`${tree.root}@${name}`], { recursive: true });
      released += filesystems.length;
    } catch (error) {
      // Some filesystem never had it (an inherited value names what only others held): one by one.
      if (!isGone(error)) throw error;
      released += await eachOrAll(
        filesystems.map((fs) => `${fs}@${name}`),
        (snapshots) => driver.release(former.tag, snapshots),
        isGone,
      );
    }
  }
  await driver.inheritPropertyOn(
    tree.filesystems.filter((fs) => isSetHere(stored.get(fs))),
    former.property,
  );
  return released;
}

/**
 * A former tag where filesystems move one by one: what stays put and follows a moving
 * ancestor's record keeps it as a value of its own (its hold stays, for a later run to take
 * over); each moving filesystem's holds go, then its own value.
 */
async function dropFormerEach(driver: ZfsDriver, former: Former, moving: ReadonlySet<string>, stored: Stored): Promise<number> {
  const records = resolveCursors(stored);
  const pinned = [...records]
    .filter(([filesystem, record]) => record.storage !== 'own' && !moving.has(filesystem) && hasMovingAncestor(filesystem, moving))
    .map(([filesystem, record]) => ({ filesystem, value: formatCursorValue(record.snapshot, record.pending) }));
  await setValues(driver, former.property, pinned);
  const stale = [...moving].flatMap((fs) => heldCandidates(records.get(fs)).map((name) => `${fs}@${name}`));
  const released = await eachOrAll(stale, (snapshots) => driver.release(former.tag, snapshots), isGone);
  await driver.inheritPropertyOn(
    [...moving].filter((fs) => isSetHere(stored.get(fs))),
    former.property,
  );
  return released;
}

/** A value set on the filesystem itself (a record of its own, or `^`). */
function isSetHere(entry: StoredCursor | undefined): boolean {
  return entry?.storage === 'own' || entry?.storage === 'as-parent';
}

/** Holds each change's new base; one already held (a move that died after its hold) is fine. */
async function holdEach(driver: ZfsDriver, tag: string, changes: readonly Change[]): Promise<void> {
  await eachOrAll(
    changes.map((c) => `${c.filesystem}@${c.snapshot}`),
    (snapshots) => driver.hold(tag, snapshots),
    (error) => error instanceof HoldExistsError,
  );
}

/** One `zfs set` per distinct value. */
async function setValues(driver: ZfsDriver, property: string, values: ReadonlyArray<{ filesystem: string; value: string }>): Promise<void> {
  const byValue = new Map<string, string[]>();
  for (const { filesystem, value } of values) byValue.set(value, [...(byValue.get(value) ?? []), filesystem]);
  for (const [value, filesystems] of byValue) await driver.setUserPropertyOn(filesystems, property, value);
}

/** Any ancestor that moves gets a local value, which its descendants would inherit from then on. */
function hasMovingAncestor(filesystem: string, moving: ReadonlySet<string>): boolean {
  for (let parent = parentOf(filesystem); parent !== undefined; parent = parentOf(parent)) {
    if (moving.has(parent)) return true;
  }
  return false;
}

function isGone(error: unknown): boolean {
  return error instanceof HoldNotFoundError || error instanceof DatasetNotFoundError;
}

/**
 * Runs `operation` on all items in one command; when that fails (zfs stops at the first bad
 * item, possibly after applying some), once per item, ignoring the failures `ignorable` accepts.
 * Returns how many items the operation applied to without such a failure.
 */
async function eachOrAll(items: string[], operation: (items: string[]) => Promise<void>, ignorable: (error: unknown) => boolean): Promise<number> {
  if (items.length === 0) return 0;
  try {
    await operation(items);
    return items.length;
  } catch (error) {
    if (!ignorable(error)) throw error;
  }
  let applied = 0;
  for (const item of items) {
    try {
      await operation([item]);
      applied += 1;
    } catch (error) {
      if (!ignorable(error)) throw error;
    }
  }
  return applied;
}
