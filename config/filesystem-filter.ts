/**
 * zrepl's `filesystems` filter: `"pool/a<": true` selects pool/a and everything below it,
 * `"pool/a": true` only pool/a, `false` excludes. For a given filesystem the most specific rule
 * that matches decides (the longest path; on the same path the exact rule beats the subtree
 * rule); no matching rule means not selected. `"<": true` matches every filesystem. Pure.
 */
import { datasetNameProblem, isAtOrBelow } from './names.js';
import type { FilesystemFilterRule } from './types.js';

/** What selection needs of a rule (FilesystemFilterRule has more, for messages). */
export interface FilterRuleCore {
  /** The dataset the rule names; '' for `"<"` (every filesystem). */
  path: string;
  subtree: boolean;
  include: boolean;
}

export interface FilesystemSelection<R extends FilterRuleCore = FilesystemFilterRule> {
  selected: boolean;
  /** The rule that decided; absent when none matches. */
  rule?: R;
  /** In words, for `zferry test filesystems`. */
  reason: string;
}

/** A filter key as written (`pool/a<`, `pool/a`, `<`), or why it is not one. */
export function parseFilterKey(key: string): { path: string; subtree: boolean } | { problem: string } {
  if (key === '<') return { path: '', subtree: true };
  const subtree = key.endsWith('<');
  const path = subtree ? key.slice(0, -1) : key;
  if (/[*?[\]]/.test(path))
    return { problem: `${JSON.stringify(key)} is not a filter: globs are not supported (write "pool/a<" for pool/a and everything below it)` };
  if (path.includes('<')) return { problem: `${JSON.stringify(key)} is not a filter: "<" may only end it ("pool/a<" means pool/a and everything below it)` };
  const problem = datasetNameProblem(path);
  if (problem !== undefined) return { problem: `${JSON.stringify(key)} is not a filter: the dataset name ${problem}` };
  return { path, subtree };
}

/** Why `key` is not a filter key, or undefined. */
export function filterKeyProblem(key: string): string | undefined {
  const parsed = parseFilterKey(key);
  return 'problem' in parsed ? parsed.problem : undefined;
}

function matches(rule: FilterRuleCore, name: string): boolean {
  return rule.subtree ? isAtOrBelow(name, rule.path) : rule.path === name;
}

function depth(path: string): number {
  return path === '' ? 0 : path.split('/').length;
}

/** True when `a` is more specific than `b` (both matching the same filesystem). */
function moreSpecific(a: FilterRuleCore, b: FilterRuleCore): boolean {
  const da = depth(a.path);
  const db = depth(b.path);
  if (da !== db) return da > db;
  return !a.subtree && b.subtree;
}

function patternOf(rule: FilterRuleCore): string {
  return 'pattern' in rule && typeof rule.pattern === 'string' ? rule.pattern : rule.subtree ? `${rule.path}<` : rule.path;
}

/** Whether filesystem `name` is selected by `rules`, by which rule, and why. */
export function selectFilesystem<R extends FilterRuleCore>(rules: readonly R[], name: string): FilesystemSelection<R> {
  let decisive: R | undefined;
  for (const rule of rules) {
    if (matches(rule, name) && (decisive === undefined || moreSpecific(rule, decisive))) decisive = rule;
  }
  if (decisive === undefined) return { selected: false, reason: `no rule matches ${name} (not selected)` };
  const rule = `${JSON.stringify(patternOf(decisive))}: ${String(decisive.include)}`;
  return decisive.include
    ? { selected: true, rule: decisive, reason: `selected by ${rule}` }
    : { selected: false, rule: decisive, reason: `excluded by ${rule} (the most specific rule that matches)` };
}

/**
 * Where the job's recursive walk starts: the paths of including rules that lie below no other
 * including rule's path. Every selected filesystem is at or below one of them (the rule that
 * selects it is at or below one), and none lies below a selected filesystem (that one's rule
 * would be above it). A root can itself be excluded (`"a<": true` with `"a": false`: the walk
 * starts at a and skips it). `['']` when `"<": true` selects every filesystem of every pool.
 */
export function filterRoots(rules: readonly FilterRuleCore[]): string[] {
  const included = [...new Set(rules.filter((rule) => rule.include).map((rule) => rule.path))];
  return included.filter((path) => !included.some((other) => other !== path && isAtOrBelow(path, other))).sort();
}
