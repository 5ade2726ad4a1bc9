/**
 * Throwaway pools are named after the process that made them (`<prefix><pid>x<random>`, with a
 * directory `<dirPrefix><name>` in the temp dir for the vdev file and mountpoints). A pool whose
 * process is dead is stale: the next run of the test suite or of a benchmark sweeps it. Shared
 * by test/helpers/zfs-pool.ts and bench/replication/pools.ts.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface PoolNaming {
  /** Matches this kind's pool names; group 1 is the creating process's pid. */
  poolName: RegExp;
  /** Prefix of the pool's directory in the temp dir (followed by the pool's name). */
  dirPrefix: string;
}

/** Runs a command; never rejects. */
export type RunCommand = (bin: string, args: readonly string[]) => Promise<{ exitCode: number | null | undefined; stdout: string }>;

/** Lazily unmounts anything still mounted below `dir` (a crashed daemon leaves FUSE mounts). */
export function unmountBelow(dir: string): void {
  let mounts: string;
  try {
    mounts = readFileSync('/proc/mounts', 'utf8');
  } catch {
    return;
  }
  const targets = mounts
    .split('\n')
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((target) => target === dir || target.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const target of targets) {
    try {
      execFileSync('umount', ['-l', target], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Destroys the pools (and temp dirs) of this naming whose creating process is dead; their names. */
export async function sweepStalePools(naming: PoolNaming, run: RunCommand): Promise<string[]> {
  const stale = (name: string): boolean => {
    const match = naming.poolName.exec(name);
    return match !== null && !pidAlive(Number(match[1]));
  };
  const swept: string[] = [];
  const listed = await run('zpool', ['list', '-H', '-o', 'name']);
  const pools =
    listed.exitCode === 0
      ? listed.stdout
          .split('\n')
          .map((name) => name.trim())
          .filter(Boolean)
      : [];
  for (const name of pools.filter(stale)) {
    const result = await run('zpool', ['destroy', '-f', name]);
    if (result.exitCode !== 0) continue; // busy (its owner may be dying): the next sweep retries
    const dir = path.join(os.tmpdir(), `${naming.dirPrefix}${name}`);
    unmountBelow(dir);
    await rm(dir, { recursive: true, force: true });
    swept.push(name);
  }
  // Directories whose pool is gone (the process died between create and destroy).
  for (const entry of safeReaddir(os.tmpdir())) {
    if (!entry.startsWith(naming.dirPrefix)) continue;
    const name = entry.slice(naming.dirPrefix.length);
    if (!stale(name) || pools.includes(name)) continue;
    const dir = path.join(os.tmpdir(), entry);
    unmountBelow(dir);
    await rm(dir, { recursive: true, force: true });
  }
  return swept;
}
