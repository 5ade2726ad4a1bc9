/**
 * Replication cursors: the newest snapshot a job has replicated to one destination is the
 * next incremental base, so it must survive pruning on both sides. It is protected by a
 * `zfs hold` under a tag naming the job and the destination (one source can feed several
 * targets, each with its own tag), and recorded in a user property on the filesystem so the
 * previous base can be released without `zfs holds` (broken on some builds).
 */

import { createHash } from 'node:crypto';
import type { PropertyValue } from '../zfs/index.js';

/** The hold tag for a job and destination: `zferry_<job>_<hash of destination>`. */
export function cursorTag(jobName: string, destination: string): string {
  const digest = createHash('sha256').update(destination).digest('hex').slice(0, 12);
  return `zferry_${jobName.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}_${digest}`;
}

/** The user property recording a tag's current base on a filesystem. */
export function cursorProperty(tag: string): string {
  return `zferry:cursor.${tag.toLowerCase()}`;
}

/**
 * The property holds the short snapshot name. Not its guid: a recursive tree then shares one
 * value, and one `zfs set` records the cursor of every filesystem in it.
 */
export function formatCursorValue(snapshot: string): string {
  return snapshot;
}

/** The recorded snapshot name, or undefined for an unset (`-`) or malformed value. */
export function parseCursorValue(value: string): string | undefined {
  return /^[A-Za-z0-9_.:][A-Za-z0-9_.: -]{0,254}$/.test(value) && value !== '-' ? value : undefined;
}

/** Where a filesystem's cursor stands, read from its cursor property. */
export interface RecordedCursor {
  /** The effective cursor: the local value, else the inherited one. */
  snapshot: string;
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
  const snapshot = parseCursorValue(entry.value);
  return snapshot === undefined ? undefined : { snapshot, local: entry.source === 'local' };
}
