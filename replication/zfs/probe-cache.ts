/**
 * What the `zfs` binary accepts only changes when the binary does, yet probing it costs 15 zfs
 * processes per zferry start (every cron run, every ssh `zferry serve`). The result is kept in
 * a small file keyed by the binary's path, size and modification time.
 */

import { mkdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BinaryProbe } from './capabilities.js';

/** Bumped whenever the probed features change, so an older cache is probed afresh. */
const FORMAT = 3;

interface CacheFile {
  format: number;
  key: string;
  probe: BinaryProbe;
}

/** `$XDG_CACHE_HOME/zferry/zfs-binary.json`, else under `~/.cache`. */
export function defaultProbeCachePath(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'zferry', 'zfs-binary.json');
}

/** Identifies the binary `bin` resolves to (through PATH when it has no slash). */
export async function binaryKey(bin: string): Promise<string | undefined> {
  const candidates = bin.includes('/')
    ? [bin]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, bin));
  for (const candidate of candidates) {
    try {
      const resolved = await realpath(candidate);
      const info = await stat(resolved);
      if (info.isFile()) return `${resolved}:${info.size}:${Math.round(info.mtimeMs)}`;
    } catch {
      // Not in this directory: try the next.
    }
  }
  return undefined;
}

export async function readProbeCache(file: string, key: string, logger: Logger): Promise<BinaryProbe | undefined> {
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile>;
    if (cached.format === FORMAT && cached.key === key && cached.probe?.features && cached.probe.evidence) return cached.probe;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') logger.debug({ file, err: error }, 'zfs capability cache unreadable; probing');
  }
  return undefined;
}

/** Best effort: a cache that cannot be written only costs the next run a probe. */
export async function writeProbeCache(file: string, key: string, probe: BinaryProbe, logger: Logger): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify({ format: FORMAT, key, probe } satisfies CacheFile));
    await rename(temporary, file);
  } catch (error) {
    logger.debug({ file, err: error }, 'zfs capability cache not written');
  }
}
