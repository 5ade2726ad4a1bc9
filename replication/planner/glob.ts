/**
 * Shell-style globs for snapshot names: `*` matches any run of characters (also none), `?`
 * exactly one, everything else itself; the whole name must match. Matching walks the pattern
 * directly instead of building a RegExp, so no character needs escaping and a pattern such as
 * `*a*a*a*b` cannot backtrack exponentially.
 */
export function globMatch(pattern: string, name: string): boolean {
  // Code points, not UTF-16 units, so `?` matches one character even outside the BMP.
  const p = Array.from(pattern);
  const s = Array.from(name);
  let pi = 0;
  let si = 0;
  // Where the last `*` was and which name position it currently swallows up to.
  let starAt = -1;
  let starMatchedUpTo = 0;
  while (si < s.length) {
    const pc = p[pi];
    if (pc === '*') {
      starAt = pi;
      starMatchedUpTo = si;
      pi += 1;
    } else if (pc !== undefined && (pc === '?' || pc === s[si])) {
      pi += 1;
      si += 1;
    } else if (starAt >= 0) {
      // Let the last `*` swallow one more character and retry after it. Earlier stars never
      // need revisiting: the last one can absorb anything they could.
      pi = starAt + 1;
      starMatchedUpTo += 1;
      si = starMatchedUpTo;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi += 1;
  return pi === p.length;
}

export interface SnapshotFilter {
  /** Patterns a name must match one of; absent or empty = every name. */
  include?: readonly string[] | undefined;
  /** Patterns that exclude a name even when it is included. */
  exclude?: readonly string[] | undefined;
}

/** A predicate on snapshot short names (after `@`): included and not excluded. */
export function createSnapshotSelector(filter: SnapshotFilter): (name: string) => boolean {
  const include = filter.include ?? [];
  const exclude = filter.exclude ?? [];
  return (name) => (include.length === 0 || include.some((pattern) => globMatch(pattern, name))) && !exclude.some((pattern) => globMatch(pattern, name));
}
