/**
 * The zfs operations the benchmark needs around the measurements: preparing sources, resetting
 * targets, and checking that every tool really replicated what it was asked to (by guid).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { checkCommand, runCommand } from './command.js';
import { CommandFailedError, ReplicaMismatchError } from './errors.js';

const BUSY_RETRIES = 20;
const BUSY_DELAY_MS = 500;
/** zferry records each replication cursor in a user property named after its hold tag. */
const CURSOR_PROPERTY_PREFIX = 'zferry:cursor.';

/** `zfs ARGS`, returning stdout; throws CommandFailedError with stderr. */
export async function zfs(...args: string[]): Promise<string> {
  return (await checkCommand(['zfs', ...args])).stdout;
}

/** `zfs ARGS`, retried while zfs-fuse says "busy" (right after a mount or a receive). */
export async function zfsRetryBusy(...args: string[]): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const result = await runCommand(['zfs', ...args]);
    if (result.exitCode === 0) return result.stdout;
    if (!/busy/i.test(result.stderr) || attempt >= BUSY_RETRIES) throw new CommandFailedError(result);
    await sleep(BUSY_DELAY_MS);
  }
}

export async function datasetExists(name: string): Promise<boolean> {
  const result = await runCommand(['zfs', 'list', '-H', '-o', 'name', name]);
  return result.exitCode === 0;
}

/**
 * Snapshot guids at and below `root`, keyed by the name relative to it (`@s1`, `/child@s1`).
 * `zfs get -p` prints exact guids (zfs-fuse has no `list -p`).
 */
export async function snapshotGuids(root: string): Promise<Map<string, string>> {
  const stdout = await zfs('get', '-H', '-p', '-r', '-o', 'name,value', 'guid', root);
  const guids = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [name, guid] = line.split('\t');
    if (name === undefined || guid === undefined || !name.includes('@')) continue;
    if (name !== root && !name.startsWith(`${root}@`) && !name.startsWith(`${root}/`)) continue;
    guids.set(name.slice(root.length), guid);
  }
  return guids;
}

/** Throws unless `target` holds every snapshot of `source` (same relative name, same guid). */
export async function assertReplica(source: string, target: string): Promise<void> {
  const [want, have] = await Promise.all([
    snapshotGuids(source),
    datasetExists(target).then((yes) => (yes ? snapshotGuids(target) : new Map<string, string>())),
  ]);
  const missing: string[] = [];
  for (const [rel, guid] of want) {
    if (have.get(rel) !== guid) missing.push(`${target}${rel}`);
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, ... (${missing.length} in all)` : '');
    throw new ReplicaMismatchError(`${target} lacks snapshots of ${source} (or has other guids): ${shown}`);
  }
}

/**
 * Releases the holds zferry keeps on its replication cursors below `root` and clears the
 * cursor properties, so the next measurement starts from the same state as the first (and
 * held snapshots can be destroyed). Returns how many cursors were cleared.
 */
export async function clearZferryCursors(root: string): Promise<number> {
  if (!(await datasetExists(root))) return 0;
  // Inherited too: one `zfs set` on a tree's root may record the cursor of every filesystem in it.
  const stdout = await zfs('get', '-H', '-r', '-s', 'local,inherited', '-o', 'name,property,value,source', 'all', root);
  const local: [string, string][] = [];
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [name, property, stored, source] = line.split('\t');
    if (!name || !property?.startsWith(CURSOR_PROPERTY_PREFIX) || stored === undefined || name.includes('@')) continue;
    // `^` below a recursive job's root: the parent's value (listed before it).
    const value = stored === '^' ? (values.get(`${name.slice(0, name.lastIndexOf('/'))}\t${property}`) ?? '') : stored;
    values.set(`${name}\t${property}`, value);
    const tag = property.slice(CURSOR_PROPERTY_PREFIX.length);
    // The value names the held snapshot (`name`, or `guid@name` in earlier versions).
    const snapshot = /^(?:[0-9]+@)?([^@/\s]+)$/.exec(value)?.[1];
    if (snapshot !== undefined) {
      const released = await runCommand(['zfs', 'release', tag, `${name}@${snapshot}`]);
      // A cursor whose snapshot or hold is already gone needs no release.
      if (released.exitCode !== 0 && !/no such tag|does not exist|could not find/i.test(released.stderr)) {
        throw new CommandFailedError(released);
      }
    }
    if (source === 'local') local.push([property, name]);
  }
  for (const [property, name] of local) await zfs('inherit', property, name);
  return local.length;
}

/** Destroys a filesystem tree if it exists (zferry's holds released first). */
export async function destroyTree(root: string): Promise<void> {
  if (!(await datasetExists(root))) return;
  const tags = await cursorTags(root);
  await clearZferryCursors(root);
  await releaseStrayHolds(root, tags);
  await zfsRetryBusy('destroy', '-r', root);
}

/** Hold tags named by zferry's cursor properties below `root`. */
async function cursorTags(root: string): Promise<Set<string>> {
  const stdout = await zfs('get', '-H', '-r', '-s', 'local', '-o', 'property', 'all', root);
  return new Set(
    stdout
      .split('\n')
      .filter((property) => property.startsWith(CURSOR_PROPERTY_PREFIX))
      .map((property) => property.slice(CURSOR_PROPERTY_PREFIX.length)),
  );
}

/**
 * Holds that no cursor points at any more (a run that failed between hold and record): try
 * every known tag on every snapshot still held (`zfs holds` cannot list them on zfs-fuse).
 */
async function releaseStrayHolds(root: string, tags: Set<string>): Promise<void> {
  if (tags.size === 0) return;
  const stdout = await zfs('get', '-H', '-p', '-r', '-o', 'name,value', 'userrefs', root);
  for (const line of stdout.split('\n')) {
    const [name, refs] = line.split('\t');
    if (!name?.includes('@') || refs === undefined || Number(refs) === 0) continue;
    for (const tag of tags) await runCommand(['zfs', 'release', tag, name]);
  }
}
