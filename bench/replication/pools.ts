/**
 * Throwaway file-backed pools for the benchmark, named `zfb<pid>x<random>` with their vdev in
 * their own directory under os.tmpdir(). They are destroyed by destroy(), by destroyAllPools()
 * on the way out, synchronously on process exit as a last resort, and pools left by a
 * benchmark that was killed outright are swept by the next run (their pid is dead).
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sweepStalePools as sweepPoolsOf, unmountBelow } from '../../test/helpers/stale-pools.js';
import { runCommand } from './command.js';
import { CommandFailedError } from './errors.js';

const POOL_PREFIX = 'zfb';
const POOL_NAME = /^zfb(\d+)x[0-9a-f]+$/;
const DIR_PREFIX = 'zferry-bench-';
const BUSY_RETRIES = 20;
const BUSY_DELAY_MS = 500;

export interface BenchPool {
  readonly name: string;
  /** Mountpoint of the pool's root dataset, or undefined for an unmounted (`none`) pool. */
  readonly mountpoint: string | undefined;
  /** `name/rel`, or the pool itself without rel. */
  dataset(rel?: string): string;
  /** Destroys the pool (retrying "busy") and removes its files. Idempotent. */
  destroy(): Promise<void>;
}

export interface PoolOptions {
  sizeMiB: number;
  /** Mount the pool's filesystems (needed to write data into them). */
  mounted: boolean;
}

const registry = new Map<string, string>();
let exitHookInstalled = false;

export async function createPool(options: PoolOptions): Promise<BenchPool> {
  installExitHook();
  const name = `${POOL_PREFIX}${process.pid}x${randomBytes(3).toString('hex')}`;
  const dir = path.join(os.tmpdir(), `${DIR_PREFIX}${name}`);
  const vdev = path.join(dir, 'vdev');
  const mountpoint = options.mounted ? path.join(dir, 'mnt') : undefined;
  await mkdir(dir, { recursive: true });
  await writeFile(vdev, '');
  await truncate(vdev, options.sizeMiB * 1024 * 1024);
  // Allocated up front, so the first contender to write somewhere does not also pay for the
  // host filesystem growing the sparse file. Best effort: not every filesystem supports it.
  await runCommand(['fallocate', '-l', String(options.sizeMiB * 1024 * 1024), vdev]).catch(() => undefined);
  registry.set(name, dir);
  // atime=off: reading a mounted filesystem must not change it between snapshots.
  const created = await runCommand(['zpool', 'create', '-o', 'cachefile=none', '-O', 'atime=off', '-m', mountpoint ?? 'none', name, vdev]);
  if (created.exitCode !== 0) {
    registry.delete(name);
    await rm(dir, { recursive: true, force: true });
    throw new CommandFailedError(created);
  }
  let destroyed: Promise<void> | undefined;
  return {
    name,
    mountpoint,
    dataset: (rel?: string) => (rel === undefined || rel === '' ? name : `${name}/${rel}`),
    destroy: () => (destroyed ??= destroyPool(name, dir)),
  };
}

/** Destroys every pool this process still has. */
export async function destroyAllPools(): Promise<void> {
  await Promise.allSettled([...registry.entries()].map(([name, dir]) => destroyPool(name, dir)));
}

async function destroyPool(name: string, dir: string): Promise<void> {
  try {
    for (let attempt = 0; ; attempt++) {
      const listed = await runCommand(['zpool', 'list', '-H', '-o', 'name', name]);
      if (listed.exitCode !== 0) break;
      const result = await runCommand(['zpool', 'destroy', '-f', name]);
      if (result.exitCode === 0) break;
      // Right after a mount, or while a killed receive drains, zfs-fuse says "busy".
      if (!/busy/i.test(result.stderr) || attempt >= BUSY_RETRIES) throw new CommandFailedError(result);
      await sleep(BUSY_DELAY_MS);
    }
  } finally {
    registry.delete(name);
    unmountBelow(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', destroyAllPoolsSync);
}

/** Last resort on process exit: nothing asynchronous runs any more. */
function destroyAllPoolsSync(): void {
  for (const [name, dir] of registry) {
    try {
      execFileSync('zpool', ['destroy', '-f', name], { stdio: 'ignore' });
    } catch {
      // Best effort; the next run sweeps what is left.
    }
    unmountBelow(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  registry.clear();
}

/** Destroys benchmark pools (and their directories) whose process is dead. */
export function sweepStalePools(): Promise<string[]> {
  return sweepPoolsOf({ poolName: POOL_NAME, dirPrefix: DIR_PREFIX }, (bin, args) => runCommand([bin, ...args]));
}
