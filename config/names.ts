/**
 * The names a configuration may hold: datasets (`root_fs`, filter keys) and single components
 * (job, listener and client names, which become parts of dataset names, hold tags and
 * properties). The same rules as ZFS's, with the stricter edges zferry applies everywhere
 * (nothing that starts with `-` and could be read as an option, no `.`/`..` components). Kept
 * here, not shared with replication/: config/ and replication/ do not import each other, and
 * the zfs driver checks every name again before a `zfs` command runs.
 */

/** ZFS caps a dataset name at 255 bytes. */
const MAX_DATASET_NAME_BYTES = 255;
/**
 * Job and listener names end up in hold tags and user properties next to a destination, and
 * ZFS caps a hold tag at 255 bytes: 64 leaves room for the rest.
 */
const MAX_COMPONENT_LENGTH = 64;

const DATASET_CHARACTER = /^[A-Za-z0-9_.: -]$/;
const COMPONENT = /^[A-Za-z0-9_.:-]+$/;

function quoted(text: string): string {
  return JSON.stringify(text);
}

/** Why `name` is not a filesystem name, or undefined when it is one. */
export function datasetNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_DATASET_NAME_BYTES) return `is longer than ${MAX_DATASET_NAME_BYTES} bytes`;
  if (name.includes('@')) return 'contains "@": that names a snapshot, a filesystem is expected';
  if (name.includes('#')) return 'contains "#": that names a bookmark, a filesystem is expected';
  if (name.startsWith('/')) return 'starts with "/": dataset names start with the pool, not a mountpoint';
  if (name.startsWith('-')) return 'starts with "-" (a pool name starts with a letter; "-" would be read as an option)';
  if (name.endsWith('/')) return 'ends with "/"';
  for (const [index, component] of name.split('/').entries()) {
    if (component.length === 0) return 'has an empty component ("//")';
    if (component === '.' || component === '..') return `has a ${quoted(component)} component`;
    const bad = [...component].find((ch) => !DATASET_CHARACTER.test(ch));
    if (bad !== undefined) return `contains ${quoted(bad)} (letters, digits and _ - . : space only)`;
    if (index === 0 && !/^[A-Za-z]/.test(component)) return 'does not start with a letter (a pool name does)';
    if (index > 0 && /^[- ]/.test(component)) return `has a component that starts with ${quoted(component[0] ?? '')}`;
  }
  return undefined;
}

/** Why `name` cannot be a job name, listener name or client identity (`what` says which). */
export function componentProblem(name: string, what: string): string | undefined {
  if (name.length === 0) return `${what} is empty`;
  if (name.length > MAX_COMPONENT_LENGTH) return `${what} is longer than ${MAX_COMPONENT_LENGTH} characters`;
  if (name.startsWith('-')) return `${what} starts with "-" (it would be read as an option)`;
  if (name === '.' || name === '..') return `${what} cannot be ${quoted(name)}`;
  const bad = [...name].find((ch) => !COMPONENT.test(ch));
  if (bad !== undefined) return `${what} contains ${quoted(bad)} (letters, digits and _ - . : only: it becomes part of dataset names and hold tags)`;
  return undefined;
}

/** Why `name` cannot be a snapshot name prefix (what comes before the timestamp after `@`). */
export function snapshotPrefixProblem(prefix: string): string | undefined {
  if (prefix.length === 0) return 'is empty';
  if (prefix.startsWith('-')) return 'starts with "-" (it would be read as an option)';
  const bad = [...prefix].find((ch) => !COMPONENT.test(ch));
  if (bad !== undefined) return `contains ${quoted(bad)} (letters, digits and _ - . : only)`;
  return undefined;
}

/** True when filesystem `name` is `root` or lies below it, component by component (`a/bc` is not below `a/b`). */
export function isAtOrBelow(name: string, root: string): boolean {
  return root === '' || name === root || name.startsWith(`${root}/`);
}
