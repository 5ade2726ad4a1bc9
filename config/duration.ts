/**
 * Durations as zrepl writes them (`10m`, `1h30m`, `90s`, `500ms`, `1d`): one or more
 * number-unit pairs, added up. Pure.
 */
import { ZferryError } from '../platform/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
/** What a reader is told to write instead of a duration that is not one. */
export const DURATION_EXAMPLES = 'write it like 30s, 10m, 1h30m or 1d';

export class DurationError extends ZferryError {
  constructor(text: string, problem: string) {
    super('INVALID_DURATION', `invalid duration ${JSON.stringify(text)}: ${problem}; ${DURATION_EXAMPLES}`);
  }
}

function parse(text: string): { ms: number } | { problem: string } {
  if (text.trim() === '') return { problem: 'it is empty' };
  if (text.startsWith('-')) return { problem: 'it is negative' };
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const match = PART.exec(text);
    if (match === null) {
      const rest = text.slice(at);
      if (/^\d+(?:\.\d+)?$/.test(rest)) return { problem: `${rest} has no unit (ms, s, m, h or d)` };
      return { problem: at === 0 ? 'cannot read it' : `cannot read ${JSON.stringify(rest)}` };
    }
    ms += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
  }
  if (ms <= 0) return { problem: 'it is 0' };
  if (!Number.isInteger(ms)) return { problem: 'it is not a whole number of milliseconds' };
  return { ms };
}

/** Why `text` is not a duration ("it is 0", "cannot read it"), or undefined when it is one. */
export function durationProblem(text: string): string | undefined {
  const result = parse(text);
  return 'problem' in result ? result.problem : undefined;
}

/** Milliseconds; throws DurationError. */
export function parseDuration(text: string): number {
  const result = parse(text);
  if ('problem' in result) throw new DurationError(text, result.problem);
  return result.ms;
}

/** The shortest form parseDuration reads back to `ms`: 5_400_000 → `1h30m`, 500 → `500ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) return `${ms}ms`;
  let rest = ms;
  let text = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms']) {
    const size = UNIT_MS[unit] ?? 1;
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}
