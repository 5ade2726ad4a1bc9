/**
 * How zod's findings are put into words a user can act on: "expected a list of rules, got a
 * string", "missing 'root_fs' (a sink needs the dataset it receives into)", "unknown key
 * 'filesytems' (did you mean 'filesystems'?)". The schema attaches `expecting(...)` where the
 * generic words would be vague; `configErrorMap` words the rest.
 */
import type { z } from 'zod';
import { didYouMean } from './suggest.js';

type RawIssue = z.core.$ZodRawIssue;

/**
 * A missing key: zod does not know the key's name where the message is made, so the message
 * carries this mark and the reason, and issues.ts names the key from the issue's path.
 */
export const MISSING_MARK = '\u0000missing\u0000';

/** Unknown keys of one map arrive as one issue: one line per key, in the issue's key order. */
export const KEY_LINE_SEPARATOR = '\n';

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** What a value is, for "got …": `a string ('x')`, `a list`, `nothing (an empty value)`. */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `a string (${quote(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    case 'number':
      return `a number (${value})`;
    case 'boolean':
      return `${value} (true or false)`;
    case 'object':
      return 'a map';
    default:
      return typeof value;
  }
}

const NOUNS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  record: 'a map',
};

/** `a, b or c`. */
export function oneOf(values: readonly unknown[]): string {
  const words = values.map(quote);
  return words.length <= 1 ? (words[0] ?? 'nothing') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

/**
 * Error words for one schema: `expected NOUN, got …` for a value of the wrong kind, and the
 * reason shown after "missing 'KEY'" when the key is required.
 */
export function expecting(noun: string, whyRequired?: string): { error: (issue: RawIssue) => string | undefined } {
  return {
    error: (issue) => {
      if (issue.input === undefined) return MISSING_MARK + (whyRequired ?? '');
      if (issue.code === 'invalid_type') return `expected ${noun}, got ${kindOf(issue.input)}`;
      if (issue.code === 'invalid_union' && issue.discriminator === undefined) return `expected ${noun}, got ${kindOf(issue.input)}`;
      return undefined;
    },
  };
}

/** `unknown key 'x' (did you mean 'y'?)`, or with the keys allowed here when none is close. */
export function unknownKeyMessage(key: string, known: readonly string[], where = ''): string {
  const suggestion = didYouMean(key, known);
  if (suggestion !== '') return `unknown key '${key}'${where}${suggestion}`;
  return `unknown key '${key}'${where} (allowed here: ${known.join(', ')})`;
}

function shapeKeys(issue: RawIssue): string[] {
  const inst = issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined;
  return Object.keys(inst?._zod?.def?.shape ?? {});
}

/** The words for every issue no schema worded itself. */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return MISSING_MARK;
      return `expected ${NOUNS[issue.expected] ?? issue.expected}, got ${kindOf(issue.input)}`;
    case 'invalid_value': {
      const values = issue.values;
      const hint = typeof issue.input === 'string' ? didYouMean(issue.input, values.map(String)) : '';
      return `expected ${oneOf(values)}, got ${kindOf(issue.input)}${hint}`;
    }
    case 'unrecognized_keys': {
      const known = shapeKeys(issue);
      return issue.keys.map((key) => unknownKeyMessage(key, known)).join(KEY_LINE_SEPARATOR);
    }
    case 'invalid_union': {
      if (issue.discriminator === undefined) return `expected one of the allowed forms, got ${kindOf(issue.input)}`;
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : [];
      const value = typeof issue.input === 'object' && issue.input !== null ? (issue.input as Record<string, unknown>)[issue.discriminator] : undefined;
      if (value === undefined) return `${MISSING_MARK}one of ${oneOf(options)}`;
      const hint = typeof value === 'string' ? didYouMean(value, options.map(String)) : '';
      return `expected ${oneOf(options)}, got ${kindOf(value)}${hint}`;
    }
    case 'too_small':
      if (issue.origin === 'array') return 'must not be empty';
      if (issue.origin === 'string') return 'must not be empty';
      return `must be at least ${String(issue.minimum)}, got ${kindOf(issue.input)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}, got ${kindOf(issue.input)}`;
    default:
      return undefined;
  }
};
