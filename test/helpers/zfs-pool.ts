/**
 * Throwaway ZFS pools for tests that need real ZFS (zfs-fuse here, OpenZFS elsewhere).
 *
 * Every pool is file-backed, uniquely named (`zft<pid>x<random>`) and lives under its own
 * directory in os.tmpdir(), so test files running concurrently in separate processes never
 * collide. Pools are destroyed when the test is done, and also when the process exits, is
 * interrupted (SIGINT/SIGTERM) or when a test fails. Pools left behind by a process that was
 * SIGKILLed are swept by the next process that creates a pool (their pid is dead).
 *
 * The helpers talk to `zfs`/`zpool` directly, not through the driver under test, so tests can
 * verify the driver's effects independently.
 *
 * If ZFS does not answer, pool creation throws "ZFS is not available: ..." (tests fail, they
 * are never skipped): start it with scripts/start-zfs.sh.
 *
 * Usage:
 *
 *   import { usePool, createDataset, writeFile, snapshot } from '../../helpers/zfs-pool.js';
 *
 *   describe('my feature', () => {
 *     const ctx = usePool({ sizeMiB: 128 });          // before(): create, after(): destroy
 *     test('replicates', async () => {
 *       const fs = ctx.pool.dataset('src');            // `${poolName}/src`
 *       await createDataset(fs);
 *       await writeFile(fs, 'a.bin', 4 * 1024 * 1024); // 4 MiB of random bytes
 *       await snapshot(`${fs}@s1`);
 *       ...
 *     });
 *   });
 *
 *   test('one-off', async (t) => {
 *     const pool = await poolForTest(t);                // destroyed by t.after()
 *   });
 *
 *   await withPool(async (pool) => { ... });            // destroyed when fn settles
 *
 * Other helpers: `zfs(...args)` / `zpool(...args)` (stdout, or ZfsCommandError with stderr),
 * `getProperty`, `listSnapshots` (name, guid, createtxg; oldest first), `listAll`,
 * `datasetExists`, `mountpointOf` (mounts if needed), `hashFile`, `retryBusy`,
 * `zfsProcesses(needle)` / `waitForNoZfsProcesses(needle)` (leftover zfs clients after an
 * abort), `pool.scratch(file)` (a temp path beside the pool, not on ZFS).
 * Tips: receive into a parent created with `{ properties: { mountpoint: 'none' } }` so targets
 * are never mounted (reads would modify them); pools have `atime=off`. See also
 * zfs-wrappers.ts (stand-in zfs binaries) and zfs-logger.ts (in-memory pino logger).
 */

import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, rm, truncate, writeFile as fsWriteFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { safeReaddir, sweepStalePools as sweepPoolsOf, unmountBelow } from './stale-pools.js';

/** Environment for zfs/zpool: English messages. */
const ENV = { LC_ALL: 'C', LANG: 'C' };
const POOL_PREFIX = 'zft';
const POOL_NAME = /^zft(\d+)x[0-9a-f]+$/;
const DIR_PREFIX = 'zferry-zfs-';
/** zfs-fuse: 64 MiB is the smallest vdev that works. */
const MIN_SIZE_MIB = 64;
const BUSY_RETRIES = 10;
const BUSY_DELAY_MS = 500;

export interface ZfsCommandResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

export class ZfsCommandError extends Error {
  readonly code = 'ZFS_TEST_COMMAND_FAILED';
  constructor(
    readonly command: readonly string[],
    readonly result: ZfsCommandResult,
  ) {
    super(`${command.join(' ')} failed (exit ${String(result.exitCode)}): ${result.stderr.trim()}`);
    this.name = 'ZfsCommandError';
  }
}

export class ZfsUnavailableError extends Error {
  readonly code = 'ZFS_UNAVAILABLE';
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`ZFS is not available: ${detail}; run scripts/start-zfs.sh`, options);
    this.name = 'ZfsUnavailableError';
  }
}

// ------------------------------------------------------------------ commands

/** Runs a command and returns its outcome without throwing. */
/** Far above any single command of the suite's (the slowest take a few seconds). */
const COMMAND_TIMEOUT_MS = 120_000;

export async function run(bin: string, args: readonly string[]): Promise<ZfsCommandResult> {
  // A wedged zfs-fuse makes every call wait forever: fail the test with what hung instead.
  const result = await execa(bin, args, { reject: false, env: ENV, stdin: 'ignore', timeout: COMMAND_TIMEOUT_MS });
  if (result.timedOut) {
    return { exitCode: 124, stdout: '', stderr: `${bin} ${args.join(' ')}: no answer within ${COMMAND_TIMEOUT_MS / 1000} s (is zfs-fuse wedged?)` };
  }
  return {
    exitCode: result.exitCode,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : String(result.message),
  };
}

async function check(bin: string, args: readonly string[]): Promise<string> {
  const result = await run(bin, args);
  if (result.exitCode !== 0) throw new ZfsCommandError([bin, ...args], result);
  return result.stdout;
}

/** `zfs ARGS`; returns stdout, throws ZfsCommandError (with stderr) on failure. */
export function zfs(...args: string[]): Promise<string> {
  return check('zfs', args);
}

/** `zpool ARGS`; returns stdout, throws ZfsCommandError on failure. */
export function zpool(...args: string[]): Promise<string> {
  return check('zpool', args);
}

/** Retries an operation while zfs says "busy" (the FUSE race right after a mount). */
export async function retryBusy<T>(operation: () => Promise<T>, retries = BUSY_RETRIES): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const busy = error instanceof ZfsCommandError && /busy/i.test(error.result.stderr);
      if (!busy || attempt >= retries) throw error;
      await sleep(BUSY_DELAY_MS);
    }
  }
}

let availability: Promise<void> | undefined;

/** Throws ZfsUnavailableError unless `zpool list` answers. Checked once per process. */
export function assertZfsAvailable(): Promise<void> {
  availability ??= (async () => {
    let result: ZfsCommandResult;
    try {
      result = await run('zpool', ['list', '-H', '-o', 'name']);
    } catch (error) {
      throw new ZfsUnavailableError('cannot run zpool', { cause: error });
    }
    if (result.exitCode !== 0) {
      throw new ZfsUnavailableError(`\`zpool list\` failed (exit ${String(result.exitCode)}): ${result.stderr.trim()}`);
    }
  })();
  availability.catch(() => {
    availability = undefined;
  });
  return availability;
}

// ------------------------------------------------------------------ pools

export interface TestPool {
  /** Pool name, e.g. `zft12345x1a2b3c`. */
  readonly name: string;
  /** Mountpoint of the pool's root dataset. */
  readonly mountpoint: string;
  /** The file backing the pool. */
  readonly vdev: string;
  /** The pool's private temp directory (vdev, mountpoints, scratch files). */
  readonly dir: string;
  /** `name/rel` (or the pool name itself without rel). */
  dataset(rel?: string): string;
  /** A scratch path inside the pool's temp directory (not on ZFS). */
  scratch(file: string): string;
  /** Destroys the pool (retrying "busy") and removes its files. Idempotent. */
  destroy(): Promise<void>;
}

export interface TestPoolOptions {
  /** Vdev size; default 128 MiB, at least 64 MiB. */
  sizeMiB?: number;
}

interface Registered {
  name: string;
  dir: string;
}

const registry = new Map<string, Registered>();
let handlersInstalled = false;
let swept = false;

/** Creates a throwaway pool. Prefer usePool/poolForTest/withPool, which always destroy it. */
export async function createTestPool(options: TestPoolOptions = {}): Promise<TestPool> {
  await assertZfsAvailable();
  installExitHandlers();
  if (!swept) {
    swept = true;
    await sweepStalePools();
  }
  const sizeMiB = Math.max(MIN_SIZE_MIB, Math.round(options.sizeMiB ?? 128));
  const name = `${POOL_PREFIX}${process.pid}x${randomBytes(3).toString('hex')}`;
  const dir = path.join(os.tmpdir(), `${DIR_PREFIX}${name}`);
  const vdev = path.join(dir, 'vdev');
  const mountpoint = path.join(dir, 'mnt');
  await mkdir(dir, { recursive: true });
  await fsWriteFile(vdev, '');
  await truncate(vdev, sizeMiB * 1024 * 1024);
  registry.set(name, { name, dir });
  try {
    await zpool('create', '-o', 'cachefile=none', '-O', 'atime=off', '-m', mountpoint, name, vdev);
  } catch (error) {
    registry.delete(name);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let destroyed: Promise<void> | undefined;
  return {
    name,
    mountpoint,
    vdev,
    dir,
    dataset: (rel?: string) => (rel === undefined || rel === '' ? name : `${name}/${rel}`),
    scratch: (file: string) => path.join(dir, file),
    destroy: () => (destroyed ??= destroyPool(name, dir)),
  };
}

async function destroyPool(name: string, dir: string): Promise<void> {
  const exists = await run('zpool', ['list', '-H', '-o', 'name', name]);
  // On failure the pool stays registered: the exit handler (or the next sweep) retries.
  if (exists.exitCode === 0) await retryBusy(() => zpool('destroy', '-f', name));
  registry.delete(name);
  unmountBelow(dir);
  await rm(dir, { recursive: true, force: true });
}

/**
 * Registers before/after hooks in the current suite: a pool is created before the suite's
 * tests and destroyed after them (also when they fail).
 */
export function usePool(options: TestPoolOptions = {}): { readonly pool: TestPool } {
  let pool: TestPool | undefined;
  before(async () => {
    pool = await createTestPool(options);
  });
  after(async () => {
    await pool?.destroy();
  });
  return {
    get pool(): TestPool {
      if (!pool) throw new Error('usePool(): the pool exists only inside tests (after before() ran)');
      return pool;
    },
  };
}

/** A pool for one test, destroyed by `t.after()`. */
export async function poolForTest(t: TestContext, options: TestPoolOptions = {}): Promise<TestPool> {
  const pool = await createTestPool(options);
  t.after(() => pool.destroy());
  return pool;
}

/** Runs `fn` with a fresh pool and destroys it when `fn` settles. */
export async function withPool<T>(fn: (pool: TestPool) => Promise<T>, options: TestPoolOptions = {}): Promise<T> {
  const pool = await createTestPool(options);
  try {
    return await fn(pool);
  } finally {
    await pool.destroy();
  }
}

// ------------------------------------------------------------------ cleanup

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', destroyAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      destroyAllSync();
      // Exit as the signal would have (128 + signal number).
      process.exit(128 + (os.constants.signals[signal] ?? 1));
    });
  }
}

function poolExistsSync(name: string): boolean {
  try {
    execFileSync('zpool', ['list', '-H', '-o', 'name', name], { stdio: 'ignore', env: { ...process.env, ...ENV } });
    return true;
  } catch {
    return false;
  }
}

/**
 * Exit path. A transfer still running in this process keeps its pipe open, and zfs-fuse keeps
 * the pool busy until that pipe closes, which happens only once this process is gone. So try
 * once now, and if the pool is still there hand it to a detached shell that retries after we
 * have exited (and removes the files only once the pool is gone).
 */
function destroySync(name: string, dir: string): void {
  try {
    execFileSync('zpool', ['destroy', '-f', name], { stdio: 'ignore', env: { ...process.env, ...ENV } });
  } catch {
    // Handled below.
  }
  if (!poolExistsSync(name)) {
    unmountBelow(dir);
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const script = [
    'for i in $(seq 1 60); do',
    '  zpool list -H -o name "$1" >/dev/null 2>&1 || break',
    '  zpool destroy -f "$1" >/dev/null 2>&1 && break',
    '  sleep 0.5',
    'done',
    'if ! zpool list -H -o name "$1" >/dev/null 2>&1; then rm -rf "$2"; fi',
  ].join('\n');
  const child = spawn('sh', ['-c', script, 'zferry-pool-cleanup', name, dir], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...ENV },
  });
  child.unref();
}

/** Destroys every pool this process still has (exit/signal path: synchronous). */
export function destroyAllSync(): void {
  for (const { name, dir } of [...registry.values()]) {
    registry.delete(name);
    try {
      destroySync(name, dir);
    } catch {
      // Best effort on the way out; the next run sweeps what is left.
    }
  }
}

/** Destroys test pools (and temp dirs) whose creating process is dead. */
export function sweepStalePools(): Promise<string[]> {
  return sweepPoolsOf({ poolName: POOL_NAME, dirPrefix: DIR_PREFIX }, run);
}

// ------------------------------------------------------------------ datasets and data

/** `zfs create [-p] [-o k=v]... name`. */
export async function createDataset(name: string, options: { properties?: Record<string, string>; parents?: boolean } = {}): Promise<string> {
  const args = ['create'];
  if (options.parents) args.push('-p');
  for (const [key, value] of Object.entries(options.properties ?? {})) args.push('-o', `${key}=${value}`);
  await zfs(...args, name);
  return name;
}

/** `zfs snapshot [-r] fullName`; returns the snapshot's guid. */
export async function snapshot(fullName: string, options: { recursive?: boolean } = {}): Promise<string> {
  await zfs('snapshot', ...(options.recursive ? ['-r'] : []), fullName);
  return getProperty(fullName, 'guid');
}

/** One property value (`-p`: exact numbers). */
export async function getProperty(name: string, property: string): Promise<string> {
  return (await zfs('get', '-H', '-p', '-o', 'value', property, name)).replace(/\n$/, '');
}

/**
 * The `zferry:cursor.*` properties on `fs` (set there or inherited): property → value and source.
 * A value stored as the parent's (`^`, below a recursive job's root) reads as the parent's
 * value; `stored` is the value as zfs shows it.
 */
export async function zferryCursors(fs: string): Promise<Map<string, { value: string; source: string; stored: string }>> {
  const cursors = new Map<string, { value: string; source: string; stored: string }>();
  for (const line of (await zfs('get', '-H', '-o', 'property,value,source', 'all', fs)).split('\n')) {
    const [property, stored, source] = line.split('\t');
    if (!property?.startsWith('zferry:cursor.') || stored === undefined || source === undefined) continue;
    const parent = fs.includes('/') ? fs.slice(0, fs.lastIndexOf('/')) : undefined;
    const value = stored === '^' && source === 'local' && parent !== undefined ? ((await zferryCursors(parent)).get(property)?.value ?? '-') : stored;
    cursors.set(property, { value, source, stored });
  }
  return cursors;
}

export interface SnapshotInfo {
  fullName: string;
  name: string;
  guid: string;
  createtxg: number;
}

/** Snapshots of one filesystem, oldest first (pivoted from `zfs get`, as `list -p` is missing). */
export async function listSnapshots(filesystem: string): Promise<SnapshotInfo[]> {
  const stdout = await zfs('get', '-H', '-p', '-o', 'name,property,value', '-d', '1', 'guid,createtxg', filesystem);
  const byName = new Map<string, Partial<SnapshotInfo>>();
  for (const line of stdout.split('\n')) {
    const [name, property, value] = line.split('\t');
    if (!name || !value || !name.startsWith(`${filesystem}@`)) continue;
    const info = byName.get(name) ?? { fullName: name, name: name.slice(filesystem.length + 1) };
    if (property === 'guid') info.guid = value;
    if (property === 'createtxg') info.createtxg = Number(value);
    byName.set(name, info);
  }
  return [...byName.values()].map((info) => info as SnapshotInfo).sort((a, b) => a.createtxg - b.createtxg);
}

/** Every dataset name (filesystems, snapshots, volumes) below and including `root`. */
export async function listAll(root: string): Promise<string[]> {
  return (await zfs('list', '-H', '-o', 'name', '-t', 'all', '-r', root)).split('\n').filter(Boolean);
}

/** Every snapshot below and including `root` with its `userrefs` (how many holds it carries, any tag). */
export async function userrefsBelow(root: string): Promise<Record<string, number>> {
  const rows = (await zfs('get', '-H', '-p', '-r', '-o', 'name,value', 'userrefs', root)).split('\n');
  return Object.fromEntries(
    rows
      .filter((row) => row.includes('@'))
      .map((row) => row.split('\t'))
      .map(([name = '', refs = '']) => [name, Number(refs)]),
  );
}

/** What `userrefsBelow` must find when each filesystem of the tree holds `base` once and nothing else. */
export async function heldExactly(root: string, base: string): Promise<Record<string, number>> {
  const snapshots = (await listAll(root)).filter((name) => name.includes('@'));
  return Object.fromEntries(snapshots.map((name) => [name, name.endsWith(`@${base}`) ? 1 : 0]));
}

/** True when `zfs list` knows the name. */
export async function datasetExists(name: string): Promise<boolean> {
  return (await run('zfs', ['list', '-H', '-o', 'name', '-t', 'all', name])).exitCode === 0;
}

/** The mountpoint of a filesystem, mounting it first if needed. */
export async function mountpointOf(filesystem: string): Promise<string> {
  const [mountpoint, mounted] = (await zfs('get', '-H', '-o', 'value', 'mountpoint,mounted', filesystem)).split('\n').filter(Boolean);
  if (!mountpoint || !mountpoint.startsWith('/')) {
    throw new Error(`${filesystem} has no usable mountpoint (${String(mountpoint)})`);
  }
  if (mounted !== 'yes') await retryBusy(() => zfs('mount', filesystem));
  return mountpoint;
}

export interface WrittenFile {
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * Writes a file into a mounted filesystem. `content`: the bytes, a string, or a size in bytes
 * of random data (or a repeating pattern with `fill: 'pattern'`, which compresses well).
 */
export async function writeFile(
  filesystem: string,
  rel: string,
  content: Buffer | string | number,
  options: { fill?: 'random' | 'pattern' } = {},
): Promise<WrittenFile> {
  if (rel.split('/').includes('..') || path.isAbsolute(rel)) throw new Error(`writeFile: relative path expected, got ${rel}`);
  const target = path.join(await mountpointOf(filesystem), rel);
  mkdirSync(path.dirname(target), { recursive: true });
  const hash = createHash('sha256');
  const out = createWriteStream(target);
  let bytes = 0;
  const write = async (chunk: Buffer): Promise<void> => {
    hash.update(chunk);
    bytes += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  };
  if (typeof content === 'number') {
    const chunkSize = 1024 * 1024;
    const pattern = Buffer.alloc(chunkSize, 'zferry-test-pattern ');
    for (let left = content; left > 0; left -= chunkSize) {
      const size = Math.min(chunkSize, left);
      const chunk = options.fill === 'pattern' ? pattern.subarray(0, size) : randomFillSync(Buffer.allocUnsafe(size));
      await write(chunk);
    }
  } else {
    await write(typeof content === 'string' ? Buffer.from(content) : content);
  }
  out.end();
  await once(out, 'close');
  return { path: target, bytes, sha256: hash.digest('hex') };
}

/** sha256 of a file in a (mounted) filesystem. */
export async function hashFile(filesystem: string, rel: string): Promise<string> {
  const file = path.join(await mountpointOf(filesystem), rel);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// ------------------------------------------------------------------ processes

export interface ProcessInfo {
  pid: number;
  argv: string[];
}

/**
 * Live `zfs`/`zpool` processes whose command line mentions `needle` (e.g. a pool name):
 * after an abort there must be none.
 */
export function zfsProcesses(needle: string): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    const bin = path.basename(argv[0] ?? '');
    if ((bin === 'zfs' || bin === 'zpool') && argv.some((arg) => arg.includes(needle))) {
      // A zombie (exited, not yet reaped) has an empty cmdline, so it never gets here.
      if (existsSync(`/proc/${entry}`)) found.push({ pid: Number(entry), argv });
    }
  }
  return found;
}

/** Polls until no zfs process mentions `needle`, or returns the ones still there. */
export async function waitForNoZfsProcesses(needle: string, timeoutMs = 10_000): Promise<ProcessInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = zfsProcesses(needle);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(100);
  }
}
