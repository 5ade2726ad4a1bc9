/**
 * zrepl's retention grid spec, `1x1h(keep=all) | 24x1h | 14x1d`: intervals separated by `|`,
 * each `N x DURATION` (N consecutive buckets of that length) with an optional `(keep=K)` or
 * `(keep=all)`; without it a bucket keeps 1. Pure.
 */
import { PruningRuleError } from './errors.js';

/** keep=all: a bucket keeps every snapshot in it. */
export const KEEP_ALL = 'all';

/** One `N x DURATION(keep=K)` group as written. */
export interface GridInterval {
  /** How many consecutive buckets the group stands for (the N). */
  count: number;
  /** The length of each bucket, in milliseconds. */
  lengthMs: number;
  /** How many of the oldest snapshots in each bucket are kept. */
  keep: number | typeof KEEP_ALL;
  /** The group in canonical form (`24x1h`, `1x1h(keep=all)`), as decisions name it. */
  text: string;
}

/** One bucket of the expanded grid. */
export interface GridBucket {
  lengthMs: number;
  keep: number | typeof KEEP_ALL;
  /** The group the bucket belongs to and its place in it (1-based), for reasons like `24x1h bucket 3/24`. */
  interval: GridInterval;
  indexInInterval: number;
  /** The age (before the grid's anchor) at which the bucket begins; it ends where the next one begins. */
  startMs: number;
}

export interface GridSpec {
  intervals: GridInterval[];
  /** The intervals expanded into their buckets, newest first. */
  buckets: GridBucket[];
  /** The spec in canonical form. */
  text: string;
}

/** Grids longer than this are a typo (1000000x1s), not a retention policy. */
export const MAX_GRID_BUCKETS = 100_000;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const INTERVAL = /^(\d+)\s*x\s*([^()]+?)\s*(?:\(([^()]*)\))?$/;
const DURATION_PART = /(\d+)(s|m|h|d|w)/y;
const HOW = 'write each interval like 24x1h, 14x1d or 1x1h(keep=all), separated by |';

/** `1h`, `90m`, `1h30m`, `2w` in milliseconds, or why not. Whole units only: snapshot times have seconds. */
function parseGridDuration(text: string): number | string {
  if (text === '') return 'no duration';
  let ms = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const at = DURATION_PART.lastIndex;
    const match = DURATION_PART.exec(text);
    if (match === null) {
      const rest = text.slice(at);
      return /^\d+$/.test(rest) ? `duration ${JSON.stringify(text)} has no unit (s, m, h, d or w)` : `cannot read duration ${JSON.stringify(text)}`;
    }
    ms += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
  }
  if (ms <= 0) return `duration ${JSON.stringify(text)} is 0`;
  if (!Number.isSafeInteger(ms)) return `duration ${JSON.stringify(text)} is too long`;
  return ms;
}

function formatGridDuration(ms: number): string {
  let rest = ms;
  let text = '';
  for (const unit of ['w', 'd', 'h', 'm', 's']) {
    const size = UNIT_MS[unit] ?? 1;
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}

function parseKeep(parameter: string): { keep: number | typeof KEEP_ALL } | { problem: string } {
  const match = /^keep\s*=\s*(\S+)$/.exec(parameter.trim());
  if (match === null) return { problem: `unknown parameter ${JSON.stringify(parameter.trim())} (only keep=all or keep=K)` };
  const value = match[1] ?? '';
  if (value === KEEP_ALL) return { keep: KEEP_ALL };
  if (!/^\d+$/.test(value)) return { problem: `keep=${value} is neither a whole number nor all` };
  const keep = Number(value);
  if (keep === 0) return { problem: 'keep=0 would keep nothing: leave the interval out, or make the one before it longer' };
  return { keep };
}

function parseInterval(text: string): GridInterval | string {
  const match = INTERVAL.exec(text);
  if (match === null) return text === '' ? 'is empty' : `${JSON.stringify(text)} is not N x DURATION`;
  const count = Number(match[1]);
  if (count === 0) return `${JSON.stringify(text)} has 0 buckets`;
  const lengthMs = parseGridDuration((match[2] ?? '').replace(/\s+/g, ''));
  if (typeof lengthMs === 'string') return `${JSON.stringify(text)}: ${lengthMs}`;
  const parsedKeep = match[3] === undefined ? { keep: 1 } : parseKeep(match[3]);
  if ('problem' in parsedKeep) return `${JSON.stringify(text)}: ${parsedKeep.problem}`;
  const keep = parsedKeep.keep;
  const canonical = `${count}x${formatGridDuration(lengthMs)}${keep === 1 && match[3] === undefined ? '' : `(keep=${keep})`}`;
  return { count, lengthMs, keep, text: canonical };
}

/**
 * Parses a grid spec; throws PruningRuleError (prefixed with `where`). Like zrepl, interval
 * lengths must not shrink from one group to the next (a shorter bucket after a longer one is
 * almost always a typo), except after groups that all keep everything.
 */
export function parseGridSpec(spec: unknown, where = 'grid'): GridSpec {
  if (typeof spec !== 'string') throw new PruningRuleError(where, `the grid must be a string like "1x1h(keep=all) | 24x1h | 14x1d"`);
  const parts = spec.split('|').map((part) => part.trim());
  const intervals: GridInterval[] = [];
  for (const [index, part] of parts.entries()) {
    const interval = parseInterval(part);
    if (typeof interval === 'string') {
      throw new PruningRuleError(where, `invalid grid ${JSON.stringify(spec)}: interval ${index + 1} of ${parts.length} ${interval}; ${HOW}`);
    }
    intervals.push(interval);
  }
  for (let i = 1; i < intervals.length; i += 1) {
    const previous = intervals[i - 1] as GridInterval;
    const current = intervals[i] as GridInterval;
    const allKeepAllBefore = intervals.slice(0, i).every((interval) => interval.keep === KEEP_ALL);
    if (current.lengthMs < previous.lengthMs && !allKeepAllBefore) {
      throw new PruningRuleError(
        where,
        `invalid grid ${JSON.stringify(spec)}: interval ${i + 1} (${current.text}) has shorter buckets than interval ${i} (${previous.text}); bucket lengths must not shrink towards the past`,
      );
    }
  }
  const total = intervals.reduce((sum, interval) => sum + interval.count, 0);
  if (total > MAX_GRID_BUCKETS) throw new PruningRuleError(where, `invalid grid ${JSON.stringify(spec)}: ${total} buckets; at most ${MAX_GRID_BUCKETS}`);
  const buckets: GridBucket[] = [];
  let startMs = 0;
  for (const interval of intervals) {
    for (let i = 1; i <= interval.count; i += 1) {
      buckets.push({ lengthMs: interval.lengthMs, keep: interval.keep, interval, indexInInterval: i, startMs });
      startMs += interval.lengthMs;
    }
  }
  return { intervals, buckets, text: intervals.map((interval) => interval.text).join(' | ') };
}
