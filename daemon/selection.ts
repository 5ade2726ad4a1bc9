/**
 * A job's `filesystems` filter as the replication runs use it: the roots to list (one run
 * each, disjoint) and the test each listed filesystem must pass.
 */
import type { FilesystemFilterRule } from '../config/types.js';
import { isAtOrBelow } from '../replication/zfs/names.js';

export interface Selection {
  /** Disjoint roots, each listed once (with its subtree when `recursive`). */
  roots: ReadonlyArray<{ root: string; recursive: boolean }>;
  selects(filesystem: string): boolean;
}

/**
 * The rule deciding `filesystem`: an exact rule for it, else the subtree rule of its nearest
 * ancestor (or itself); none: not selected.
 */
function decidingRule(rules: readonly FilesystemFilterRule[], filesystem: string): FilesystemFilterRule | undefined {
  const exact = rules.find((rule) => !rule.subtree && rule.path === filesystem);
  if (exact !== undefined) return exact;
  let best: FilesystemFilterRule | undefined;
  for (const rule of rules) {
    if (rule.subtree && isAtOrBelow(filesystem, rule.path) && (best === undefined || rule.path.length > best.path.length)) best = rule;
  }
  return best;
}

export function selectionOf(rules: readonly FilesystemFilterRule[]): Selection {
  const selects = (filesystem: string): boolean => decidingRule(rules, filesystem)?.include === true;
  const included = rules.filter((rule) => rule.include).map((rule) => rule.path);
  // An included rule below another included path is listed with it.
  const tops = [...new Set(included)].filter((path) => !included.some((other) => other !== path && isAtOrBelow(path, other)));
  const roots = tops.sort().map((root) => ({
    root,
    // Only an exact rule with nothing included below it needs no subtree listing.
    recursive: rules.some((rule) => rule.include && rule.subtree && isAtOrBelow(rule.path, root)) || included.some((path) => path !== root && isAtOrBelow(path, root)),
  }));
  return { roots, selects };
}

/** Both filters at once: a filesystem must pass each (a pull narrowing a local source's filter). */
export function intersect(outer: Selection, inner: Selection): Selection {
  return {
    roots: inner.roots,
    selects: (filesystem) => outer.selects(filesystem) && inner.selects(filesystem),
  };
}
