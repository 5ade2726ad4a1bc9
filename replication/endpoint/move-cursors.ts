/**
 * Moving replication cursors: hold each filesystem's new base under the job's tag, record it
 * in the cursor property, release the tag from the previous base.
 *
 * The property may be set on a tree's root and inherited: a filesystem's cursor is its local
 * value, else the value it inherits. Invariant kept by every move: a filesystem's effective
 * value names the snapshot that carries its hold (or it has no hold under the tag).
 *
 * Fast path: when every filesystem of a tree moves from one snapshot name to another (the
 * usual recursive job), `hold -r`, one `set` on the root and `release -r` do it in three
 * transactions; per-filesystem names cost one transaction each (seconds on a large tree).
 */

import { DatasetNotFoundError, HoldExistsError, HoldNotFoundError, isWithin, parentOf, type ZfsDriver } from '../zfs/index.js';
import { cursorProperty, formatCursorValue, recordedCursor, type RecordedCursor } from './cursor.js';
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
  const outside = root === undefined ? undefined : moving.find((fs) => !isWithin(root, fs));
  if (outside !== undefined) throw new CursorOutsideTreeError(outside, root ?? '');
  // The tree listing and the moving filesystems' cursors are both reads: run them together.
  const listing = root === undefined ? undefined : driver.listFilesystems(root, { recursive: true });
  listing?.catch(() => undefined);
  const recorded = await readCursors(driver, property, [...new Set(moving)]);
  const changes = moves
    .map((move) => ({ ...move, previous: recorded.get(move.filesystem)?.snapshot }))
    .filter((move) => move.previous !== move.snapshot);
  if (changes.length === 0) return { released: 0 };

  if (root !== undefined && listing !== undefined) {
    const tree: CursorTree = { root, filesystems: await listing };
    const whole = wholeTreeMove(tree, moves, changes);
    if (whole) {
      const moved = await moveTree(driver, tag, property, tree, whole, changes, recorded);
      if (moved) return moved;
    }
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

type Change = CursorMove & { previous: string | undefined };

/**
 * The tree moves as a whole when every filesystem in it (the endpoint's own listing, all
 * within the root) moves, none is there already, and all go from one name to one name.
 */
function wholeTreeMove(tree: CursorTree, moves: readonly CursorMove[], changes: readonly Change[]): { to: string; from: string | undefined } | undefined {
  if (changes.length !== moves.length || moves.length !== new Set(tree.filesystems).size) return undefined;
  const moving = new Set(moves.map((m) => m.filesystem));
  if (!tree.filesystems.every((fs) => moving.has(fs))) return undefined;
  const targets = new Set(changes.map((c) => c.snapshot));
  const bases = new Set(changes.map((c) => c.previous));
  if (targets.size !== 1 || bases.size !== 1) return undefined;
  const [to] = targets;
  const [from] = bases;
  return to === undefined ? undefined : { to, from };
}

/** Returns undefined when a hold is already there (the caller then moves one by one). */
async function moveTree(
  driver: ZfsDriver,
  tag: string,
  property: string,
  tree: CursorTree,
  { to: snapshot, from }: { to: string; from: string | undefined },
  changes: Change[],
  recorded: Map<string, RecordedCursor>,
): Promise<{ released: number } | undefined> {
  try {
    await driver.hold(tag, [`${tree.root}@${snapshot}`], { recursive: true });
  } catch (error) {
    // Some snapshot already carries the tag (an interrupted earlier move): go one by one.
    if (error instanceof HoldExistsError) return undefined;
    throw error;
  }
  await driver.setUserPropertyOn([tree.root], property, formatCursorValue(snapshot));
  // Local values below the root (left by a one-by-one move) would hide the root's.
  const localBelow = tree.filesystems.filter((fs) => fs !== tree.root && recorded.get(fs)?.local === true);
  await driver.inheritPropertyOn(localBelow, property);
  if (from === undefined) return { released: 0 };
  try {
    await driver.release(tag, [`${tree.root}@${from}`], { recursive: true });
    return { released: changes.length };
  } catch (error) {
    if (!isGone(error)) throw error;
  }
  // Some previous base lost its hold or its snapshot by hand: release the rest one by one.
  return { released: await releaseEach(driver, tag, changes) };
}

async function moveEach(
  driver: ZfsDriver,
  tag: string,
  property: string,
  changes: Change[],
  recorded: Map<string, RecordedCursor>,
): Promise<{ released: number }> {
  await eachOrAll(
    changes.map((c) => `${c.filesystem}@${c.snapshot}`),
    (snapshots) => driver.hold(tag, snapshots),
    (error) => error instanceof HoldExistsError,
  );
  // A filesystem that stays put but inherits from one that moves keeps its value as a local one.
  const moving = new Set(changes.map((c) => c.filesystem));
  const pinned = [...recorded]
    .filter(([filesystem, cursor]) => !cursor.local && !moving.has(filesystem) && hasMovingAncestor(filesystem, moving))
    .map(([filesystem, cursor]) => ({ filesystem, snapshot: cursor.snapshot }));
  await setCursors(driver, property, pinned);
  await setCursors(driver, property, changes);
  return { released: await releaseEach(driver, tag, changes) };
}

/** One `zfs set` per distinct snapshot name. */
async function setCursors(driver: ZfsDriver, property: string, cursors: readonly CursorMove[]): Promise<void> {
  const bySnapshot = new Map<string, string[]>();
  for (const { filesystem, snapshot } of cursors) bySnapshot.set(snapshot, [...(bySnapshot.get(snapshot) ?? []), filesystem]);
  for (const [snapshot, filesystems] of bySnapshot) await driver.setUserPropertyOn(filesystems, property, formatCursorValue(snapshot));
}

/** Any ancestor that moves gets a local value, which its descendants would inherit from then on. */
function hasMovingAncestor(filesystem: string, moving: ReadonlySet<string>): boolean {
  for (let parent = parentOf(filesystem); parent !== undefined; parent = parentOf(parent)) {
    if (moving.has(parent)) return true;
  }
  return false;
}

async function releaseEach(driver: ZfsDriver, tag: string, changes: Change[]): Promise<number> {
  const stale = changes.filter((c) => c.previous !== undefined).map((c) => `${c.filesystem}@${c.previous}`);
  // Already gone (destroyed by hand after a release, or renamed): nothing left to protect.
  return eachOrAll(stale, (snapshots) => driver.release(tag, snapshots), isGone);
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
