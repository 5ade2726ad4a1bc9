/**
 * zferry's one statement of what a dataset, snapshot or bookmark name may be. The zfs driver
 * checks every name here before it reaches a `zfs` command line, the planner checks listings,
 * the endpoint contract checks names on the wire with the same patterns, and the cursor property
 * its snapshot names.
 *
 * Names can come from the network, so they are untrusted: anything ZFS would not accept, or
 * anything that could be read as an option (a leading `-`) or walk the tree (`.`/`..`), is
 * refused, before any process is spawned. The rules follow ZFS's own `zfs_namecheck.c`, with
 * stricter edges:
 * - at most 255 bytes of `[A-Za-z0-9_.:-]` and space;
 * - the pool name begins with a letter (ZFS's rule), so no name begins with `-`;
 * - no other component, and no snapshot or bookmark name, is empty, `.` or `..`, or begins
 *   with `-` or a space;
 * - a snapshot is `filesystem@name`, a bookmark `filesystem#name`: one separator, no `/` after it.
 *
 * The patterns below are the rules; the checks after them only put into words why a name
 * fails them (a test holds the two together).
 */

import type { VersionType } from './types.js';
import { InvalidNameError } from './errors.js';

/** ZFS_MAX_DATASET_NAME_LEN is 256 including the terminating NUL. */
export const MAX_NAME_LENGTH = 255;

/** ZFS's name characters (letters, digits, `_ - . :`) and the space it also takes. */
const CHARACTER = '[A-Za-z0-9_.: -]';
/** What may begin a component below the pool, or a snapshot or bookmark name: not `-`, not a space. */
const COMPONENT_START = '[A-Za-z0-9_.:]';
/** What may begin a pool name, and so any name. */
const POOL_START = '[A-Za-z]';
/** `.` and `..` are refused as components: they only appear in attacks. */
const NOT_DOTS = String.raw`(?!\.\.?(?:/|$))`;
const COMPONENT = `${NOT_DOTS}${COMPONENT_START}${CHARACTER}*`;

/** A filesystem name, `pool/a/b` (and at most MAX_NAME_LENGTH characters). */
export const FILESYSTEM_NAME_PATTERN = new RegExp(`^${POOL_START}${CHARACTER}*(?:/${COMPONENT})*$`);
/** The short name after `@` or `#` (and at most MAX_NAME_LENGTH characters). */
export const SHORT_NAME_PATTERN = new RegExp(`^${COMPONENT}$`);

const ONE_CHARACTER = new RegExp(`^${CHARACTER}$`);
const STARTS_LIKE_COMPONENT = new RegExp(`^${COMPONENT_START}`);
const STARTS_LIKE_POOL = new RegExp(`^${POOL_START}`);

export type DatasetKind = 'filesystem' | VersionType;

export interface ParsedName {
  kind: DatasetKind;
  /** The filesystem part (the whole name for a filesystem). */
  filesystem: string;
  /** The part after `@` or `#`; absent for a filesystem. */
  version?: string;
}

/** The parts of a name the patterns accept, or undefined. */
function parseValid(name: string): ParsedName | undefined {
  if (typeof name !== 'string' || name.length > MAX_NAME_LENGTH) return undefined;
  const sep = name.search(/[@#]/);
  if (sep < 0) return FILESYSTEM_NAME_PATTERN.test(name) ? { kind: 'filesystem', filesystem: name } : undefined;
  const filesystem = name.slice(0, sep);
  const version = name.slice(sep + 1);
  if (!FILESYSTEM_NAME_PATTERN.test(filesystem) || !SHORT_NAME_PATTERN.test(version)) return undefined;
  return { kind: name[sep] === '@' ? 'snapshot' : 'bookmark', filesystem, version };
}

/** True for a short name (after `@` or `#`) the rules accept. */
export function isValidShortName(short: string): boolean {
  return typeof short === 'string' && short.length <= MAX_NAME_LENGTH && SHORT_NAME_PATTERN.test(short);
}

/** The end of every reason that names a refused character. */
const ALLOWED = 'no characters other than letters, digits and _ - . : space are allowed';

/** Checks of a whole name (`whole`) or of a short name after `@`/`#` on its own (`short`). */
function commonProblem(name: string, part: 'whole' | 'short'): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'empty name';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} bytes`;
  if (name.startsWith('-')) {
    return part === 'whole' ? 'does not start with a letter ("-" would be read as an option)' : 'starts with "-" (would be read as an option)';
  }
  // Control characters and whitespace other than a plain space (tabs, newlines, NBSP, ...).
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return `control character U+${hex4(code)} (${ALLOWED})`;
    if (ch !== ' ' && /\s/u.test(ch)) return `whitespace character U+${hex4(code)} (${ALLOWED})`;
  }
  return undefined;
}

function hex4(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}

function badCharacterProblem(text: string, what: string): string | undefined {
  const bad = [...text].find((ch) => !ONE_CHARACTER.test(ch));
  return bad === undefined ? undefined : `invalid character ${JSON.stringify(bad)} in ${what} (${ALLOWED})`;
}

function filesystemPartProblem(fs: string): string | undefined {
  const components = fs.split('/');
  for (const [index, component] of components.entries()) {
    const what = index === 0 ? 'pool name' : 'path component';
    if (component.length === 0) return 'has an empty component';
    if (component === '.' || component === '..') return `has a "${component}" component`;
    const bad = badCharacterProblem(component, what);
    if (bad !== undefined) return bad;
    // The pool's first character has a rule of its own, checked last.
    if (index > 0 && !STARTS_LIKE_COMPONENT.test(component)) return `a path component starts with ${JSON.stringify(component[0])}`;
  }
  if (!STARTS_LIKE_POOL.test(fs)) return 'does not start with a letter (a pool name does)';
  return undefined;
}

function shortPartProblem(short: string, kind: VersionType): string | undefined {
  const what = `${kind} name`;
  if (short === '.' || short === '..') return `"${short}" is not a valid ${what}`;
  const bad = badCharacterProblem(short, what);
  if (bad !== undefined) return bad;
  if (!STARTS_LIKE_COMPONENT.test(short)) return `${what} starts with ${JSON.stringify(short[0])}`;
  return undefined;
}

/** Why a name the patterns refuse is refused, in words. */
function nameProblem(name: string): string {
  const common = commonProblem(name, 'whole');
  if (common !== undefined) return common;
  const at = name.indexOf('@');
  const hash = name.indexOf('#');
  if (at >= 0 && hash >= 0) return 'contains both "@" and "#"';
  const sep = at >= 0 ? at : hash;
  if (sep < 0) return filesystemPartProblem(name) ?? 'not a valid filesystem name';
  const sepChar = name[sep] as '@' | '#';
  if (name.indexOf(sepChar, sep + 1) >= 0) return `more than one "${sepChar}"`;
  const fs = name.slice(0, sep);
  const version = name.slice(sep + 1);
  const kind: VersionType = sepChar === '@' ? 'snapshot' : 'bookmark';
  if (fs.length === 0) return `nothing before "${sepChar}"`;
  const fsProblem = filesystemPartProblem(fs);
  if (fsProblem !== undefined) return fsProblem;
  if (version.length === 0) return `empty ${kind} name`;
  if (version.includes('/')) return `"/" in ${kind} name`;
  return shortPartProblem(version, kind) ?? `not a valid ${kind} name`;
}

/** Parses and validates any dataset name; throws InvalidNameError. */
export function parseDatasetName(name: string): ParsedName {
  const parsed = parseValid(name);
  if (parsed === undefined) throw new InvalidNameError(String(name), nameProblem(name));
  return parsed;
}

function kindProblem(parsed: ParsedName, kinds: readonly DatasetKind[]): string | undefined {
  if (kinds.includes(parsed.kind)) return undefined;
  const expected = `expected a ${kinds.join(' or ')} name, got a ${parsed.kind} name`;
  // Where a filesystem is expected, the `@` or `#` is the character in the way.
  return kinds.length === 1 && kinds[0] === 'filesystem' ? `${expected} (${ALLOWED} in a filesystem name)` : expected;
}

function expectKind(name: string, kinds: readonly DatasetKind[]): ParsedName {
  const parsed = parseDatasetName(name);
  const problem = kindProblem(parsed, kinds);
  if (problem !== undefined) throw new InvalidNameError(name, problem);
  return parsed;
}

/** Why `name` is not a valid filesystem name, or undefined when it is one (the non-throwing validateFilesystemName). */
export function filesystemNameProblem(name: string): string | undefined {
  const parsed = parseValid(name);
  return parsed === undefined ? nameProblem(name) : kindProblem(parsed, ['filesystem']);
}

/** `pool/a/b`: no `@` or `#`. Returns the name. */
export function validateFilesystemName(name: string): string {
  expectKind(name, ['filesystem']);
  return name;
}

/** `pool/a@snap`. Returns the parts. */
export function validateSnapshotName(name: string): { filesystem: string; name: string } {
  const parsed = expectKind(name, ['snapshot']);
  return { filesystem: parsed.filesystem, name: parsed.version ?? '' };
}

/** `pool/a#mark`. Returns the parts. */
export function validateBookmarkName(name: string): { filesystem: string; name: string } {
  const parsed = expectKind(name, ['bookmark']);
  return { filesystem: parsed.filesystem, name: parsed.version ?? '' };
}

/** A snapshot or a bookmark (e.g. the `from` of an incremental send). */
export function validateVersionName(name: string): {
  type: VersionType;
  filesystem: string;
  name: string;
} {
  const parsed = expectKind(name, ['snapshot', 'bookmark']);
  return { type: parsed.kind as VersionType, filesystem: parsed.filesystem, name: parsed.version ?? '' };
}

/** The short name after `@`/`#` (e.g. `zferry_2024-01-01`), validated on its own. */
export function validateShortName(short: string, kind: VersionType = 'snapshot'): string {
  if (isValidShortName(short)) return short;
  throw new InvalidNameError(String(short), commonProblem(short, 'short') ?? shortPartProblem(short, kind) ?? `not a valid ${kind} name`);
}

export function isValidName(name: string, kind?: DatasetKind): boolean {
  const parsed = parseValid(name);
  return parsed !== undefined && (kind === undefined || parsed.kind === kind);
}

/**
 * True when `name` is `root` itself or lies below it, compared component by component:
 * `tank/ab` is not below `tank/a`. A snapshot or bookmark is at its filesystem. False when
 * either name is invalid or `root` is not a filesystem.
 */
export function isAtOrBelow(name: string, root: string): boolean {
  const parsed = parseValid(name);
  if (parsed === undefined || parseValid(root)?.kind !== 'filesystem') return false;
  return parsed.filesystem === root || parsed.filesystem.startsWith(`${root}/`);
}

/** Orders filesystem names so every parent comes before its children, siblings by code unit order. */
export function compareFilesystemNames(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i += 1) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** The pool a dataset lives in (first component). */
export function poolOf(name: string): string {
  const parsed = parseDatasetName(name);
  return parsed.filesystem.split('/')[0] ?? parsed.filesystem;
}

/** The parent filesystem, or undefined for a pool's root dataset. */
export function parentOf(filesystem: string): string | undefined {
  validateFilesystemName(filesystem);
  const slash = filesystem.lastIndexOf('/');
  return slash < 0 ? undefined : filesystem.slice(0, slash);
}

/**
 * Property names: native (`mountpoint`, `userquota@bob`) or user (`com.example:job`).
 * Commas are refused because property lists are joined with them.
 */
export function validatePropertyName(prop: string): string {
  if (prop.length === 0) throw new InvalidNameError(prop, 'empty property name');
  if (prop.length > MAX_NAME_LENGTH) throw new InvalidNameError(prop, 'property name too long');
  if (!/^[a-z0-9][a-z0-9_:.@+-]*$/i.test(prop)) {
    throw new InvalidNameError(prop, 'invalid property name');
  }
  return prop;
}

/** User properties: lowercase, must contain `:` (ZFS's rule for user-defined properties). */
export function validateUserPropertyName(prop: string): string {
  validatePropertyName(prop);
  if (!prop.includes(':')) throw new InvalidNameError(prop, 'user property names contain ":"');
  if (!/^[a-z0-9_:.+-]+$/.test(prop)) {
    throw new InvalidNameError(prop, 'user property names use only [a-z0-9_:.+-]');
  }
  return prop;
}

/** Property values travel as one `prop=value` argument; ZFS caps them at 8 KiB. */
export function validatePropertyValue(prop: string, value: string): string {
  if (value.includes('\0')) throw new InvalidNameError(prop, 'NUL in property value');
  if (Buffer.byteLength(value, 'utf8') > 8191) throw new InvalidNameError(prop, 'property value longer than 8191 bytes');
  return value;
}

/** Hold tags: any of the name characters plus `@`, `#`, `/`; never a leading `-`. */
export function validateHoldTag(tag: string): string {
  if (tag.length === 0) throw new InvalidNameError(tag, 'empty hold tag');
  if (tag.length > MAX_NAME_LENGTH) throw new InvalidNameError(tag, 'hold tag too long');
  if (tag.startsWith('-')) throw new InvalidNameError(tag, 'hold tag starts with "-"');
  if (!/^[A-Za-z0-9_.:@#/+-]+$/.test(tag)) throw new InvalidNameError(tag, 'invalid character in hold tag');
  return tag;
}

/** Guids are unsigned 64-bit decimals. */
export function validateGuid(guid: string): string {
  if (!/^[0-9]{1,20}$/.test(guid) || BigInt(guid) > 0xffffffffffffffffn) {
    throw new InvalidNameError(guid, 'not an unsigned 64-bit decimal guid');
  }
  return guid;
}

/** Resume tokens are `<version>-<hex>-<hex>-<hex>`; anything else never reaches `zfs send -t`. */
export function validateResumeToken(token: string): string {
  if (!/^[0-9]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$/i.test(token) || token.length > 1 << 20) {
    throw new InvalidNameError(token.slice(0, 40), 'not a zfs receive_resume_token');
  }
  return token;
}
