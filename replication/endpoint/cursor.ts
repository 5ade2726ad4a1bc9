/**
 * Replication cursors: the newest snapshot a job has replicated to one destination is the
 * next incremental base, so it must survive pruning on both sides. It is protected by a
 * `zfs hold` under a tag naming the job and the destination (one source can feed several
 * targets, each with its own tag), and recorded in a user property on the filesystem so the
 * previous base can be released without `zfs holds` (broken on some builds).
 *
 * The property names every snapshot that may carry the tag's hold: the cursor first, then,
 * while a move is under way, the others (`s1,s2`). A move that dies halfway (killed, pool
 * busy) thus leaves a record of what it may have held, and the next move releases it.
 *
 * A cursor counts only where its filesystem stores the value locally: an inherited value says
 * nothing about holds on the filesystem that inherits it (a move of its parent alone, or a
 * child created since). Below a recursive job's root, the local value is AS_PARENT: the root's
 * value is then the record of every filesystem that a recursive hold covered.
 */

import { createHash } from 'node:crypto';
import { isValidShortName, parentOf, type PropertyValue } from '../zfs/index.js';

/** The hold tag for a job and destination: `zferry_<job>_<hash of destination>`. */
export function cursorTag(jobName: string, destination: string): string {
  const digest = createHash('sha256').update(destination).digest('hex').slice(0, 12);
  return `zferry_${jobName.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}_${digest}`;
}

/** What every cursor property's name begins with. */
export const CURSOR_PROPERTY_PREFIX = 'zferry:cursor.';

/** The user property recording a tag's current base on a filesystem. */
export function cursorProperty(tag: string): string {
  return `${CURSOR_PROPERTY_PREFIX}${tag.toLowerCase()}`;
}

/** What a cursor property value says. */
export interface CursorValue {
  /** The base of the last completed move; undefined while the first move is under way. */
  snapshot: string | undefined;
  /** Other snapshots that may carry the hold: an unfinished move's (never the cursor itself). */
  pending: string[];
}

/**
 * The property holds short snapshot names, not guids: a recursive tree then shares one value,
 * and one `zfs set` on its root records the cursor of every filesystem in it that follows the
 * root (AS_PARENT). An empty first entry means no cursor yet.
 */
export function formatCursorValue(snapshot: string | undefined, pending: readonly string[] = []): string {
  const others = [...new Set(pending)].filter((name) => name !== snapshot);
  return [snapshot ?? '', ...others].join(',');
}

/** The recorded cursor and pending holds, or undefined for an unset (`-`) or malformed value. */
export function parseCursorValue(value: string): CursorValue | undefined {
  if (value === '-' || value === '') return undefined;
  const [first = '', ...rest] = value.split(',');
  if (first !== '' && !isValidShortName(first)) return undefined;
  if (!rest.every((name) => isValidShortName(name))) return undefined;
  const snapshot = first === '' ? undefined : first;
  const pending = [...new Set(rest)].filter((name) => name !== snapshot);
  if (snapshot === undefined && pending.length === 0) return undefined;
  return { snapshot, pending };
}

/**
 * The value a recursive move stores on every filesystem below the tree's root, once: "my record
 * is my parent's". The root's value then speaks for the whole tree, yet each filesystem's record
 * is still its own local value, written by a move whose hold covered it. Never a snapshot list.
 */
export const AS_PARENT = '^';

/** What one filesystem's property entry records, taken on its own. */
export type StoredCursor =
  /** Set here: the cursor (when settled, its snapshot carries the hold) and what else may. */
  | (CursorValue & { storage: 'own' })
  /** Set here to AS_PARENT: whatever the parent's record says. */
  | { storage: 'as-parent' }
  /**
   * Inherited from an ancestor: no cursor, because nothing says that a hold ever covered this
   * filesystem (a move of the ancestor alone, or a filesystem created after the move), but the
   * names may still carry the hold (trees recorded by earlier versions), so they are released.
   * `fromParent`: the inherited value is AS_PARENT, so the names are the parent's record's.
   */
  | (CursorValue & { storage: 'inherited'; snapshot: undefined; fromParent?: true });

/**
 * What a property entry records, or undefined. A received value (zfs send -p) describes the
 * other side's holds, not this one's, so it records nothing.
 */
export function recordedCursor(entry: PropertyValue | undefined): StoredCursor | undefined {
  if (!entry) return undefined;
  if (entry.source === 'local') {
    if (entry.value === AS_PARENT) return { storage: 'as-parent' };
    const value = parseCursorValue(entry.value);
    return value === undefined ? undefined : { ...value, storage: 'own' };
  }
  if (!/^inherited from .+$/.test(entry.source)) return undefined;
  if (entry.value === AS_PARENT) return { snapshot: undefined, pending: [], storage: 'inherited', fromParent: true };
  const value = parseCursorValue(entry.value);
  return value === undefined ? undefined : { snapshot: undefined, pending: heldCandidates(value), storage: 'inherited' };
}

/** Where a filesystem's cursor stands once AS_PARENT is followed, and how it is stored. */
export type RecordedCursor = CursorValue & { storage: StoredCursor['storage'] };

/**
 * Each filesystem's record: its own value, its parent's record where it stores AS_PARENT (none
 * when the parent was not read or has none), or an inherited value's names without a cursor.
 */
export function resolveCursors(stored: ReadonlyMap<string, StoredCursor | undefined>): Map<string, RecordedCursor> {
  const resolved = new Map<string, RecordedCursor | undefined>();
  const resolve = (filesystem: string): RecordedCursor | undefined => {
    if (resolved.has(filesystem)) return resolved.get(filesystem);
    const entry = stored.get(filesystem);
    const parent = parentOf(filesystem);
    const parentRecord = parent === undefined || !stored.has(parent) ? undefined : resolve(parent);
    let record: RecordedCursor | undefined;
    if (entry?.storage === 'as-parent') {
      record = parentRecord === undefined ? undefined : { snapshot: parentRecord.snapshot, pending: parentRecord.pending, storage: 'as-parent' };
    } else if (entry?.storage === 'inherited' && entry.fromParent === true) {
      const names = heldCandidates(parentRecord);
      record = names.length === 0 ? undefined : { snapshot: undefined, pending: names, storage: 'inherited' };
    } else {
      record = entry === undefined ? undefined : { snapshot: entry.snapshot, pending: entry.pending, storage: entry.storage };
    }
    resolved.set(filesystem, record);
    return record;
  };
  const records = new Map<string, RecordedCursor>();
  for (const filesystem of stored.keys()) {
    const record = resolve(filesystem);
    if (record !== undefined) records.set(filesystem, record);
  }
  return records;
}

/** The cursor when nothing else may carry the hold: a finished move. */
export function settledCursor(cursor: CursorValue | undefined): string | undefined {
  return cursor !== undefined && cursor.pending.length === 0 ? cursor.snapshot : undefined;
}

/** Every snapshot that may carry the hold. */
export function heldCandidates(cursor: CursorValue | undefined): string[] {
  if (cursor === undefined) return [];
  return cursor.snapshot === undefined ? [...cursor.pending] : [cursor.snapshot, ...cursor.pending];
}
