/**
 * Moving replication cursors. Per filesystem, a move from base `c` to base `n` is:
 *   1. set the cursor property to `c,n` (n is about to carry the hold; the cursor is still c)
 *   2. hold n under the job's tag
 *   3. release the tag from c (and from anything else the value names)
 *   4. set the property to `n`
 * Invariant kept at every step: each snapshot carrying the tag's hold is named in its
 * filesystem's effective value. A move that dies halfway (killed, pool busy) therefore leaks
 * nothing: the next move starts from the value it left and releases what that names. A
 * half-done value is not "settled", so the job redoes the move even when nothing is new.
 *
 * The property may be set on a tree's root and inherited: a filesystem's value is its local
 * value, else the one it inherits.
 *
 * Fast path: when every filesystem of a tree moves from one value to one snapshot (the usual
 * recursive job), the sets go on the root, with `hold -r` and `release -r`: four transactions
 * for the whole tree. Per-filesystem values cost a transaction per distinct value.
 */

import { DatasetNotFoundError, HoldExistsError, HoldNotFoundError, isAtOrBelow, parentOf, type ZfsDriver } from '../zfs/index.js';
import { cursorProperty, formatCursorValue, heldCandidates, recordedCursor, type RecordedCursor } from './cursor.js';
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

/** One filesystem's move, worked out from its recorded value. */
interface Change extends CursorMove {
  /** The recorded value as it reads now ('' when there is none). */
  current: string;
  /** The value naming the old holds and the new one, written before the hold. */
  intent: string;
  /** Snapshots whose hold the move gives up. */
  release: string[];
  /** The value is the filesystem's own, not inherited. */
  local: boolean;
}

/**
 * `root`: the moves belong to a recursive job under it. The tree is then listed here (not taken
 * from the caller) so that a recursive hold can never reach a filesystem nobody moves.
 */
export async function moveCursors(
  driver: ZfsDriver,
  tag: string,
  moves: readonly CursorMove[],
  root?: string,
): Promise<{ released: number }> {
  const property = cursorProperty(tag);
  const moving = moves.map((m) => m.filesystem);
  const outside = root === undefined ? undefined : moving.find((fs) => !isAtOrBelow(fs, root));
  if (outside !== undefined) throw new CursorOutsideTreeError(outside, root ?? '');
  // The tree listing and the moving filesystems' cursors are both reads: run them together.
  const listing = root === undefined ? undefined : driver.listFilesystems(root, { recursive: true });
  listing?.catch(() => undefined);
  const recorded = await readCursors(driver, property, [...new Set(moving)]);
  const changes = moves.flatMap((move) => changeOf(move, recorded.get(move.filesystem)));
  if (changes.length === 0) return { released: 0 };

  if (root !== undefined && listing !== undefined) {
    const tree: CursorTree = { root, filesystems: await listing };
    if (isWholeTreeMove(tree, moves, changes)) return moveTree(driver, tag, property, tree, changes, recorded);
    // One by one: what stays put must be known too, to keep its cursor when an ancestor moves.
    const movingSet = new Set(moving);
    const staying = tree.filesystems.filter((fs) => !movingSet.has(fs));
    for (const [fs, cursor] of await readCursors(driver, property, staying)) recorded.set(fs, cursor);
  }
  return moveEach(driver, tag, property, changes, recorded);
}

async function readCursors(driver: ZfsDriver, property: string, names: string[]): Promise<Map<string, RecordedCursor>> {
  const values = await driver.getPropertiesOf(names, [property]);
  const recorded = new Map<string, RecordedCursor>();
  for (const name of names) {
    const cursor = recordedCursor(values.get(name)?.[property]);
    if (cursor !== undefined) recorded.set(name, cursor);
  }
  return recorded;
}

/** Nothing to do when the value names exactly the new base; else the change. */
function changeOf(move: CursorMove, recorded: RecordedCursor | undefined): Change[] {
  if (recorded !== undefined && recorded.snapshot === move.snapshot && recorded.pending.length === 0) return [];
  return [
    {
      ...move,
      current: recorded === undefined ? '' : formatCursorValue(recorded.snapshot, recorded.pending),
      intent: formatCursorValue(recorded?.snapshot, [...(recorded?.pending ?? []), move.snapshot]),
      release: heldCandidates(recorded).filter((name) => name !== move.snapshot),
      local: recorded?.local === true,
    },
  ];
}

/**
 * The tree moves as a whole when every filesystem in it (the endpoint's own listing, all
 * within the root) moves, from one recorded value to one snapshot.
 */
function isWholeTreeMove(tree: CursorTree, moves: readonly CursorMove[], changes: readonly Change[]): boolean {
  if (changes.length !== moves.length || moves.length !== new Set(tree.filesystems).size) return false;
  const moving = new Set(moves.map((m) => m.filesystem));
  if (!tree.filesystems.every((fs) => moving.has(fs))) return false;
  return new Set(changes.map((c) => c.snapshot)).size === 1 && new Set(changes.map((c) => c.current)).size === 1;
}

async function moveTree(
  driver: ZfsDriver,
  tag: string,
  property: string,
  tree: CursorTree,
  changes: Change[],
  recorded: Map<string, RecordedCursor>,
): Promise<{ released: number }> {
  const [{ snapshot, current, intent, release }] = changes as [Change, ...Change[]];
  if (intent !== current || !changes.some((c) => c.filesystem === tree.root && c.local)) {
    await driver.setUserPropertyOn([tree.root], property, intent);
  }
  // Local values below the root would hide the root's.
  const localBelow = tree.filesystems.filter((fs) => fs !== tree.root && recorded.get(fs)?.local === true);
  await driver.inheritPropertyOn(localBelow, property);
  try {
    await driver.hold(tag, [`${tree.root}@${snapshot}`], { recursive: true });
  } catch (error) {
    // Some snapshot already carries the tag (a move that died after its hold): one by one.
    if (!(error instanceof HoldExistsError)) throw error;
    await holdEach(driver, tag, changes);
  }
  let released = 0;
  for (const name of release) {
    try {
      await driver.release(tag, [`${tree.root}@${name}`], { recursive: true });
      released += changes.length;
    } catch (error) {
      // Some filesystem's hold or snapshot is gone already (by hand, or a move that died): one by one.
      if (!isGone(error)) throw error;
      released += await eachOrAll(changes.map((c) => `${c.filesystem}@${name}`), (snapshots) => driver.release(tag, snapshots), isGone);
    }
  }
  await driver.setUserPropertyOn([tree.root], property, formatCursorValue(snapshot));
  return { released };
}

async function moveEach(
  driver: ZfsDriver,
  tag: string,
  property: string,
  changes: Change[],
  recorded: Map<string, RecordedCursor>,
): Promise<{ released: number }> {
  // A filesystem that stays put but inherits from one that moves keeps its value as a local one.
  const moving = new Set(changes.map((c) => c.filesystem));
  const pinned = [...recorded]
    .filter(([filesystem, cursor]) => !cursor.local && !moving.has(filesystem) && hasMovingAncestor(filesystem, moving))
    .map(([filesystem, cursor]) => ({ filesystem, value: formatCursorValue(cursor.snapshot, cursor.pending) }));
  await setValues(driver, property, pinned);
  // Every moving filesystem gets its own value, so an ancestor's later sets cannot change what it reads.
  await setValues(driver, property, changes.filter((c) => c.intent !== c.current || !c.local).map((c) => ({ filesystem: c.filesystem, value: c.intent })));
  await holdEach(driver, tag, changes);
  const stale = changes.flatMap((c) => c.release.map((name) => `${c.filesystem}@${name}`));
  // Already gone (destroyed by hand after a release, or renamed): nothing left to protect.
  const released = await eachOrAll(stale, (snapshots) => driver.release(tag, snapshots), isGone);
  await setValues(driver, property, changes.map((c) => ({ filesystem: c.filesystem, value: formatCursorValue(c.snapshot) })));
  return { released };
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
