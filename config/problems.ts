/**
 * A problem before it has a position: the key path it concerns, whether it points at the key
 * or at the value there, and what is wrong. zod's issues become these here.
 */
import type { z } from 'zod';
import type { KeyPath } from './key-path.js';
import { KEY_LINE_SEPARATOR, MISSING_MARK } from './messages.js';
import type { Anchor } from './yaml-source.js';

export interface PathProblem {
  path: KeyPath;
  anchor: Anchor;
  message: string;
}

function pathOf(prefix: KeyPath, issue: z.core.$ZodIssue): KeyPath {
  return [...prefix, ...(issue.path as (string | number)[])];
}

/** `missing 'KEY' (why)` for the mark messages.ts leaves on a missing key. */
function wordMissing(path: KeyPath, message: string): string {
  const why = message.slice(MISSING_MARK.length);
  const key = path.at(-1);
  return `missing '${String(key)}'${why === '' ? '' : ` (${why})`}`;
}

export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], prefix: KeyPath = []): PathProblem[] {
  return issues.flatMap((issue) => problemsFromIssue(issue, prefix));
}

function problemsFromIssue(issue: z.core.$ZodIssue, prefix: KeyPath): PathProblem[] {
  const path = pathOf(prefix, issue);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const lines = issue.message.split(KEY_LINE_SEPARATOR);
      return issue.keys.map((key, index) => ({ path: [...path, key], anchor: 'key', message: lines[index] ?? `unknown key '${key}'` }));
    }
    case 'invalid_key':
      return [{ path, anchor: 'key', message: issue.issues.map((inner) => inner.message).join('; ') }];
    case 'invalid_union': {
      // A value of the right kind for exactly one form (a map where a number or a map is
      // allowed): what is wrong inside that form says more than "none of the forms".
      const inside = issue.errors.filter((branch) => branch.length > 0 && branch.every((inner) => inner.path.length > 0));
      const [only] = inside;
      if (inside.length === 1 && only !== undefined) return problemsFromIssues(only, path);
      break;
    }
    default:
      break;
  }
  if (issue.message.startsWith(MISSING_MARK)) return [{ path, anchor: 'key', message: wordMissing(path, issue.message) }];
  return [{ path, anchor: 'value', message: issue.message }];
}

const MISSPELT = /^unknown key '[^']*'.*\(did you mean '([^']*)'\?\)$/;
const MISSING = /^missing '([^']*)'/;

function parentKey(path: KeyPath): string {
  return JSON.stringify(path.slice(0, -1));
}

/**
 * One typo is one problem: "unknown key 'filesytems' (did you mean 'filesystems'?)" already
 * says what "missing 'filesystems'" in the same map would say again.
 */
export function withoutMisspeltMissing(problems: readonly PathProblem[]): PathProblem[] {
  const misspelt = new Set(
    problems.flatMap((problem) => {
      const match = MISSPELT.exec(problem.message);
      return match === null ? [] : [`${parentKey(problem.path)}${match[1] ?? ''}`];
    }),
  );
  return problems.filter((problem) => {
    const match = MISSING.exec(problem.message);
    return match === null || !misspelt.has(`${parentKey(problem.path)}${match[1] ?? ''}`);
  });
}
