/**
 * Keep rules as the config keeps them (plain YAML maps with a `type`) turned into typed rules.
 * config/ only checks that each rule is a map with a known type; the fields are read here,
 * next to the code that gives them meaning. Pure.
 */
import { PruningRuleError } from './errors.js';
import { parseGridSpec, type GridSpec } from './grid-spec.js';

/** A regex as written (for reasons and messages) and compiled. Unanchored, as zrepl's Go regexes match. */
export interface SnapshotPattern {
  source: string;
  regex: RegExp;
}

export type KeepRule =
  | { type: 'grid'; grid: GridSpec; regex?: SnapshotPattern }
  | { type: 'last_n'; count: number; regex?: SnapshotPattern }
  | { type: 'regex'; regex: SnapshotPattern; negate: boolean }
  | { type: 'not_replicated'; keepSnapshotAtCursor: boolean };

const KEYS: Record<KeepRule['type'], readonly string[]> = {
  grid: ['type', 'grid', 'regex'],
  last_n: ['type', 'count', 'regex'],
  regex: ['type', 'regex', 'negate'],
  not_replicated: ['type', 'keep_snapshot_at_cursor'],
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pattern(value: unknown, where: string, key: string): SnapshotPattern {
  if (typeof value !== 'string' || value === '') throw new PruningRuleError(where, `${key} must be a non-empty regular expression`);
  try {
    return { source: value, regex: new RegExp(value) };
  } catch (err) {
    throw new PruningRuleError(
      where,
      `${key} ${JSON.stringify(value)} is not a valid regular expression (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

function optionalPattern(rule: Record<string, unknown>, where: string): { regex?: SnapshotPattern } {
  return rule.regex === undefined ? {} : { regex: pattern(rule.regex, where, 'regex') };
}

function optionalBool(rule: Record<string, unknown>, key: string, where: string, fallback: boolean): boolean {
  const value = rule[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new PruningRuleError(where, `${key} must be true or false`);
  return value;
}

/** One rule; `where` names it in messages (`keep_sender[0]`). Throws PruningRuleError. */
export function parseKeepRule(raw: unknown, where: string): KeepRule {
  if (!isRecord(raw)) throw new PruningRuleError(where, 'a keep rule is a map with a type (grid, last_n, regex or not_replicated)');
  const type = raw.type;
  if (type !== 'grid' && type !== 'last_n' && type !== 'regex' && type !== 'not_replicated') {
    throw new PruningRuleError(where, `unknown keep rule type ${JSON.stringify(type)}: one of grid, last_n, regex, not_replicated`);
  }
  const unknown = Object.keys(raw).filter((key) => !KEYS[type].includes(key));
  if (unknown.length > 0) {
    throw new PruningRuleError(where, `a ${type} rule takes ${KEYS[type].join(', ')}; not ${unknown.map((key) => JSON.stringify(key)).join(', ')}`);
  }
  switch (type) {
    case 'grid':
      if (raw.grid === undefined) throw new PruningRuleError(where, 'a grid rule needs grid: like "1x1h(keep=all) | 24x1h | 14x1d"');
      return { type, grid: parseGridSpec(raw.grid, where), ...optionalPattern(raw, where) };
    case 'last_n': {
      const count = raw.count;
      if (typeof count !== 'number' || !Number.isSafeInteger(count) || count <= 0) {
        throw new PruningRuleError(where, `count must be a positive whole number, not ${JSON.stringify(count)}`);
      }
      return { type, count, ...optionalPattern(raw, where) };
    }
    case 'regex':
      return { type, regex: pattern(raw.regex, where, 'regex'), negate: optionalBool(raw, 'negate', where, false) };
    case 'not_replicated':
      return { type, keepSnapshotAtCursor: optionalBool(raw, 'keep_snapshot_at_cursor', where, true) };
  }
}

/** A `keep_sender`/`keep_receiver`/`keep` list; `list` names it in messages. Throws PruningRuleError. */
export function parseKeepRules(raw: readonly unknown[], list: string): KeepRule[] {
  return raw.map((rule, index) => parseKeepRule(rule, `${list}[${index}]`));
}

/** A rule in a few words, as reasons and logs name it: `grid 1x1h(keep=all) | 24x1h`, `last_n 3`, `regex ^manual_ (negated)`. */
export function describeRule(rule: KeepRule): string {
  const re = (p: SnapshotPattern | undefined): string => (p === undefined ? '' : ` matching /${p.source}/`);
  switch (rule.type) {
    case 'grid':
      return `grid ${rule.grid.text}${re(rule.regex)}`;
    case 'last_n':
      return `last_n ${rule.count}${re(rule.regex)}`;
    case 'regex':
      return `regex /${rule.regex.source}/${rule.negate ? ' (negated)' : ''}`;
    case 'not_replicated':
      return `not_replicated${rule.keepSnapshotAtCursor ? '' : ' (keep_snapshot_at_cursor: false)'}`;
  }
}
