/**
 * Parsers for the machine-readable (`-H`, tab-separated) output of `zfs` and `zpool`.
 * Pure functions: unit-tested against recorded outputs of zfs-fuse and OpenZFS 2.x.
 */

import type { FilesystemVersion, VersionType } from './types.js';
import { ZfsUnknownError } from './errors.js';

/** Splits `-H` output into rows of tab-separated fields, skipping blank lines. */
export function parseTabRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t'));
}

/** `zfs list -H -o name` output: one name per line. */
export function parseNameList(stdout: string): string[] {
  return parseTabRows(stdout)
    .map((row) => row[0] ?? '')
    .filter((name) => name.length > 0);
}

function malformed(what: string, line: string): ZfsUnknownError {
  return new ZfsUnknownError(`unparsable zfs output (${what}): ${JSON.stringify(line)}`);
}

interface VersionFields {
  guid?: string;
  createtxg?: number;
  creation?: number;
}

/**
 * Pivots `zfs get -H -p -o name,property,value[,source] guid,createtxg,creation` rows into the
 * versions of `filesystem`. Rows of the filesystem itself or of child filesystems (zfs-fuse
 * cannot filter by type, so `-d 1` returns them too) are skipped. Sorted by createtxg; a
 * bookmark made from a snapshot shares its createtxg and sorts after it.
 */
export function parseVersions(stdout: string, filesystem: string, types: readonly VersionType[] = ['snapshot', 'bookmark']): FilesystemVersion[] {
  const byName = new Map<string, VersionFields>();
  for (const row of parseTabRows(stdout)) {
    const [name, property, value] = row;
    if (name === undefined || property === undefined || value === undefined || row.length < 3 || row.length > 4) {
      throw malformed('expected name, property, value (and source)', row.join('\t'));
    }
    const sep = name.charAt(filesystem.length);
    if (!name.startsWith(filesystem) || (sep !== '@' && sep !== '#')) continue;
    const fields = byName.get(name) ?? {};
    switch (property) {
      case 'guid':
        if (!/^[0-9]+$/.test(value)) throw malformed('guid', row.join('\t'));
        fields.guid = value;
        break;
      case 'createtxg':
      case 'creation': {
        if (!/^[0-9]+$/.test(value)) throw malformed(property, row.join('\t'));
        fields[property] = Number(value);
        break;
      }
      default:
        continue;
    }
    byName.set(name, fields);
  }

  const versions: FilesystemVersion[] = [];
  for (const [fullName, fields] of byName) {
    const type: VersionType = fullName.charAt(filesystem.length) === '@' ? 'snapshot' : 'bookmark';
    if (!types.includes(type)) continue;
    if (fields.guid === undefined || fields.createtxg === undefined || fields.creation === undefined) {
      throw malformed('missing guid, createtxg or creation', fullName);
    }
    versions.push({
      type,
      filesystem,
      name: fullName.slice(filesystem.length + 1),
      fullName,
      guid: fields.guid,
      createtxg: fields.createtxg,
      creation: fields.creation,
    });
  }
  return sortVersions(versions);
}

/**
 * Pivots `zfs get -H -p -o name,property,value[,source] [-r] guid,createtxg,creation ROOT` rows
 * into every filesystem at or below `root` (rows without `@`/`#`; volumes included) with its
 * versions; rows of other properties read by the same command are ignored. One command lists a
 * whole tree instead of one per filesystem.
 */
export function parseVersionTree(stdout: string, root: string, types: readonly VersionType[] = ['snapshot', 'bookmark']): Map<string, FilesystemVersion[]> {
  const tree = new Map<string, FilesystemVersion[]>();
  for (const [filesystem, rows] of rowsByFilesystem(stdout)) {
    if (filesystem !== root && !filesystem.startsWith(`${root}/`)) continue;
    tree.set(filesystem, parseVersions(rows.join('\n'), filesystem, types));
  }
  return tree;
}

/** Every filesystem named in `stdout` (a `zfs get` of version properties) with its versions. */
export function parseVersionsByFilesystem(stdout: string, types: readonly VersionType[] = ['snapshot', 'bookmark']): Map<string, FilesystemVersion[]> {
  const versions = new Map<string, FilesystemVersion[]>();
  for (const [filesystem, rows] of rowsByFilesystem(stdout)) versions.set(filesystem, parseVersions(rows.join('\n'), filesystem, types));
  return versions;
}

/** The snapshot and bookmark rows of a `zfs get`, by filesystem; a filesystem's own rows only add its entry. */
function rowsByFilesystem(stdout: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    if (line.length === 0) continue;
    const name = line.slice(0, line.indexOf('\t'));
    const at = name.search(/[@#]/);
    const filesystem = at === -1 ? name : name.slice(0, at);
    const own = rows.get(filesystem) ?? [];
    if (at !== -1) own.push(line);
    rows.set(filesystem, own);
  }
  return rows;
}

/** The properties a version listing reads for every snapshot and bookmark. */
export const VERSION_PROPERTIES = ['guid', 'createtxg', 'creation'] as const;

/**
 * The values and sources of `properties` on the filesystems (not snapshots or bookmarks) in
 * `zfs get -H -p -o name,property,value,source` output, such as a tree listing that also read
 * them: name → property → value and source.
 */
export function parseFilesystemProperties(stdout: string, properties: readonly string[]): Map<string, Record<string, PropertyValue>> {
  const found = new Map<string, Record<string, PropertyValue>>();
  for (const [name, props] of parsePropertiesByName(stdout)) {
    if (/[@#]/.test(name)) continue;
    const wanted = Object.entries(props).filter(([property]) => properties.includes(property));
    if (wanted.length > 0) found.set(name, Object.fromEntries(wanted));
  }
  return found;
}

/** Orders by createtxg; on a tie (bookmark of a snapshot) snapshots first, then by name. */
export function sortVersions(versions: FilesystemVersion[]): FilesystemVersion[] {
  return versions.sort((a, b) => {
    if (a.createtxg !== b.createtxg) return a.createtxg - b.createtxg;
    if (a.type !== b.type) return a.type === 'snapshot' ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

export interface PropertyValue {
  value: string;
  source: string;
}

/**
 * `zfs get -H -p -o name,property,value,source` rows for one dataset. A value may in theory
 * hold a tab, so the first two fields and the last are fixed and the value is what is between.
 */
export function parseProperties(stdout: string, name: string): Record<string, PropertyValue> {
  return parsePropertiesByName(stdout).get(name) ?? {};
}

/** The same rows for several datasets: name → property → value and source. */
export function parsePropertiesByName(stdout: string): Map<string, Record<string, PropertyValue>> {
  const result = new Map<string, Record<string, PropertyValue>>();
  for (const row of parseTabRows(stdout)) {
    if (row.length < 4) throw malformed('expected name, property, value, source', row.join('\t'));
    const rowName = row[0] as string;
    const property = row[1] as string;
    const source = row[row.length - 1] as string;
    const value = row.slice(2, -1).join('\t');
    const props = result.get(rowName) ?? {};
    props[property] = { value, source };
    result.set(rowName, props);
  }
  return result;
}

/**
 * `zpool get ... POOL` output as property → value. Accepts the three shapes in use:
 * `-H -o property,value` (two tab-separated fields), `-H` (name, property, value, source)
 * and the plain table with a `NAME PROPERTY VALUE SOURCE` header (zfs-fuse has no `-H`).
 */
export function parseZpoolProperties(stdout: string): Map<string, string> {
  const props = new Map<string, string>();
  const lines = stdout
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim().length > 0);
  for (const line of lines) {
    if (line.includes('\t')) {
      const fields = line.split('\t');
      if (fields.length === 2) props.set(fields[0] as string, fields[1] as string);
      else if (fields.length >= 4) props.set(fields[1] as string, fields.slice(2, -1).join('\t'));
      else throw malformed('zpool get', line);
      continue;
    }
    const fields = line.trim().split(/\s+/);
    if (fields[0] === 'NAME' && fields[1] === 'PROPERTY') continue;
    if (fields.length < 4) throw malformed('zpool get', line);
    // Table: NAME PROPERTY VALUE... SOURCE; a value may contain spaces (comment, altroot).
    props.set(fields[1] as string, fields.slice(2, -1).join(' '));
  }
  return props;
}

/** `zfs holds -H` rows: `snapshot<TAB>tag<TAB>timestamp`. Returns the tags of `snapshot`. */
export function parseHolds(stdout: string, snapshot: string): string[] {
  const tags: string[] = [];
  for (const row of parseTabRows(stdout)) {
    if (row.length < 3) throw malformed('zfs holds', row.join('\t'));
    if (row[0] === snapshot) tags.push(row[1] as string);
  }
  return tags.sort();
}

/** `-` is how zfs prints "no value" (e.g. an unset user property, no resume token). */
export function valueOrUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === '-' || value === '' ? undefined : value;
}

/**
 * The stream size from `zfs send -n -P` output (the `size` row, in bytes), undefined when no
 * such row is there. Its other rows (`full`/`incremental` with names) are ignored.
 */
export function parseSendSize(stdout: string): number | undefined {
  for (const row of parseTabRows(stdout)) {
    if (row[0] === 'size' && row.length >= 2 && /^[0-9]+$/.test(row[1] ?? '')) return Number(row[1]);
  }
  return undefined;
}
