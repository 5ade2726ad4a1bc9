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
 */

import { createHash } from 'node:crypto';
import { isValidShortName, type PropertyValue } from '../zfs/index.js';

/** The hold tag for a job and destination: `zferry_<job>_<hash of destination>`. */
export function cursorTag(jobName: string, destination: string): string {
  const digest = createHash('sha256').update(destination).digest('hex').slice(0, 12);
  return `zferry_${jobName.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}_${digest}`;
}

/** The user property recording a tag's current base on a filesystem. */
export function cursorProperty(tag: string): string {
  return `zferry:cursor.${tag.toLowerCase()}`;
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
 * and one `zfs set` records the cursor of every filesystem in it. An empty first entry means
 * no cursor yet.
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

/** Where a filesystem's cursor stands, read from its cursor property. */
export interface RecordedCursor extends CursorValue {
  /** The value is set on this filesystem, not inherited. */
  local: boolean;
}

/**
 * The cursor a property value records, or undefined. A received value (zfs send -p) describes
 * the other side's holds, not this one's, so only local and inherited values count.
 */
export function recordedCursor(entry: PropertyValue | undefined): RecordedCursor | undefined {
  if (!entry) return undefined;
  const inherited = /^inherited from (.+)$/.test(entry.source);
  if (entry.source !== 'local' && !inherited) return undefined;
  const value = parseCursorValue(entry.value);
  return value === undefined ? undefined : { ...value, local: entry.source === 'local' };
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
