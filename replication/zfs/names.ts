/**
 * Validation of dataset, snapshot and bookmark names before they reach a `zfs` command line.
 *
 * Names can come from the network, so they are untrusted: anything ZFS would not accept, or
 * anything that could be read as an option (a leading `-`) or walk the tree (`.`/`..`), is
 * refused here, before any process is spawned. The rules follow ZFS's own `zfs_namecheck.c`
 * (allowed characters `[A-Za-z0-9_.:-]` and space, at most 255 bytes) with stricter edges.
 */

import type { VersionType } from './types.js';
import { InvalidNameError } from './errors.js';

/** ZFS_MAX_DATASET_NAME_LEN is 256 including the terminating NUL. */
export const MAX_NAME_LENGTH = 255;

/** One path component (pool name, filesystem component, snapshot or bookmark name). */
const COMPONENT = /^[A-Za-z0-9_.: -]+$/;

export type DatasetKind = 'filesystem' | VersionType;

export interface ParsedName {
  kind: DatasetKind;
  /** The filesystem part (the whole name for a filesystem). */
  filesystem: string;
  /** The part after `@` or `#`; absent for a filesystem. */
  version?: string;
}

function fail(name: string, reason: string): never {
  throw new InvalidNameError(name, reason);
}

function checkCommon(name: string): void {
  if (typeof name !== 'string' || name.length === 0) fail(String(name), 'empty name');
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_LENGTH) {
    fail(name, `longer than ${MAX_NAME_LENGTH} bytes`);
  }
  if (name.startsWith('-')) fail(name, 'starts with "-" (would be read as an option)');
  // Control characters and whitespace other than a plain space (tabs, newlines, NBSP, ...).
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) fail(name, `control character U+${hex4(code)}`);
    if (ch !== ' ' && /\s/u.test(ch)) fail(name, `whitespace character U+${hex4(code)}`);
  }
}

function hex4(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}

function checkComponent(name: string, component: string, what: string): void {
  if (component.length === 0) fail(name, `empty ${what}`);
  if (component === '.' || component === '..') fail(name, `"${component}" is not a valid ${what}`);
  if (!COMPONENT.test(component)) {
    const bad = [...component].find((ch) => !COMPONENT.test(ch)) ?? component;
    fail(name, `invalid character ${JSON.stringify(bad)} in ${what}`);
  }
}

function checkFilesystemPart(name: string, fs: string): void {
  const components = fs.split('/');
  components.forEach((component, index) => {
    checkComponent(name, component, index === 0 ? 'pool name' : 'path component');
  });
  const pool = components[0] ?? '';
  // ZFS requires pool names to begin with a letter.
  if (!/^[A-Za-z]/.test(pool)) fail(name, 'pool name must begin with a letter');
}

/** Parses and validates any dataset name; throws InvalidNameError. */
export function parseDatasetName(name: string): ParsedName {
  checkCommon(name);
  const at = name.indexOf('@');
  const hash = name.indexOf('#');
  if (at >= 0 && hash >= 0) fail(name, 'contains both "@" and "#"');
  const sep = at >= 0 ? at : hash;
  if (sep < 0) {
    checkFilesystemPart(name, name);
    return { kind: 'filesystem', filesystem: name };
  }
  const sepChar = name[sep] as '@' | '#';
  if (name.indexOf(sepChar, sep + 1) >= 0) fail(name, `more than one "${sepChar}"`);
  const fs = name.slice(0, sep);
  const version = name.slice(sep + 1);
  const kind: VersionType = sepChar === '@' ? 'snapshot' : 'bookmark';
  if (fs.length === 0) fail(name, `nothing before "${sepChar}"`);
  checkFilesystemPart(name, fs);
  if (version.length === 0) fail(name, `empty ${kind} name`);
  if (version.includes('/')) fail(name, `"/" in ${kind} name`);
  checkComponent(name, version, `${kind} name`);
  return { kind, filesystem: fs, version };
}

function expectKind(name: string, kinds: readonly DatasetKind[]): ParsedName {
  const parsed = parseDatasetName(name);
  if (!kinds.includes(parsed.kind)) {
    fail(name, `expected a ${kinds.join(' or ')} name, got a ${parsed.kind} name`);
  }
  return parsed;
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
  checkCommon(short);
  checkComponent(short, short, `${kind} name`);
  return short;
}

export function isValidName(name: string, kind?: DatasetKind): boolean {
  try {
    const parsed = parseDatasetName(name);
    return kind === undefined || parsed.kind === kind;
  } catch {
    return false;
  }
}

/**
 * True when `name` is `root` itself or lies below it, compared component by component:
 * `tank/ab` is not within `tank/a`. Snapshots and bookmarks count as within their filesystem.
 */
export function isWithin(root: string, name: string): boolean {
  let rootFs: string;
  let nameFs: string;
  try {
    rootFs = validateFilesystemName(root);
    nameFs = parseDatasetName(name).filesystem;
  } catch {
    return false;
  }
  if (nameFs === rootFs) return true;
  return nameFs.startsWith(`${rootFs}/`);
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
