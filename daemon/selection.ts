/**
 * A job's `filesystems` filter as the replication runs use it: the roots to list (one run
 * each, disjoint; config/filesystem-filter.ts decides them) and the test each listed
 * filesystem must pass.
 */
import type { FilesystemFilterRule } from '../config/types.js';
import { filterRoots, selectFilesystem } from '../config/filesystem-filter.js';
import { isAtOrBelow } from '../replication/zfs/names.js';

export interface Selection {
  /** Disjoint roots, each listed once (with its subtree when `recursive`). `''`: every pool (`"<": true`). */
  roots: ReadonlyArray<{ root: string; recursive: boolean }>;
  selects: (filesystem: string) => boolean;
}

export function selectionOf(rules: readonly FilesystemFilterRule[]): Selection {
  const selects = (filesystem: string): boolean => selectFilesystem(rules, filesystem).selected;
  const roots = filterRoots(rules).map((root) => ({
    root,
    // Only an exact rule with nothing included below it needs no subtree listing.
    recursive: rules.some((rule) => rule.include && (rule.subtree || rule.path !== root) && isAtOrBelow(rule.path, root)),
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
