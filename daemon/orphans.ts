/**
 * zfs processes a killed zferry left behind. Each zfs child carries its owner's mark in its
 * environment (platform/process-owner.ts, replication/zfs/spawn.ts). A daemon or `zferry run`
 * starting up looks for zfs processes whose owner is gone: one still receiving would keep its
 * target busy, and on zfs-fuse a transfer whose pipe both ends of which are held by zfs
 * processes runs on regardless of them. Each is given a moment to end by itself (its pipe to
 * the dead owner is closed, so it normally does), then its process group is ended. A `zfs send`
 * ended that way leaves zfs-fuse's `.send-<pid>-0` holds on the snapshots it sent: released
 * here, so no hold leaks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { OWNER_ENV, ownerAlive, processStartTime } from '../platform/process-owner.js';
import type { ZfsDriver } from '../replication/zfs/index.js';
import { filesystemNameProblem, isValidShortName } from '../replication/zfs/names.js';
import { releaseSendHolds } from '../replication/zfs/send-holds.js';

export interface OrphanProcess {
  pid: number;
  argv: string[];
  /** The mark of the zferry process that started it. */
  owner: string;
  /** Its process group (its own, as spawned). */
  group: number;
}

/** zfs processes started by a zferry process that no longer runs (Linux: /proc). */
export function findOrphanZfsProcesses(procDir = '/proc'): OrphanProcess[] {
  const found: OrphanProcess[] = [];
  let entries: string[];
  try {
    entries = readdirSync(procDir);
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const argv = rejoinSnapshotNames(
        readFileSync(path.join(procDir, entry, 'cmdline'), 'utf8')
          .split('\0')
          .filter(Boolean),
      );
      const bin = path.basename(argv[0] ?? '');
      if (bin !== 'zfs' && bin !== 'zpool') continue;
      const owner = ownerOf(readFileSync(path.join(procDir, entry, 'environ'), 'utf8'));
      if (owner === undefined || ownerAlive(owner)) continue;
      const stat = readFileSync(path.join(procDir, entry, 'stat'), 'utf8');
      const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      found.push({ pid: Number(entry), argv, owner, group });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/**
 * zfs-fuse's `zfs` splits its arguments in place, so /proc shows `pool/fs@snap` as the two
 * words `pool/fs` and `snap`: put them back together (a filesystem name followed by a word
 * that can only be a snapshot's short name).
 */
export function rejoinSnapshotNames(argv: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    const next = argv[i + 1];
    if (i >= 2 && next !== undefined && !word.startsWith('-') && !word.includes('@') && filesystemNameProblem(word) === undefined && isValidShortName(next)) {
      joined.push(`${word}@${next}`);
      i += 1;
    } else {
      joined.push(word);
    }
  }
  return joined;
}

function ownerOf(environ: string): string | undefined {
  const prefix = `${OWNER_ENV}=`;
  return environ
    .split('\0')
    .find((line) => line.startsWith(prefix))
    ?.slice(prefix.length);
}

export interface EndOrphansOptions {
  logger: Logger;
  driver: ZfsDriver;
  /** How long they get to end by themselves, then after SIGTERM; default 1500 ms each. */
  graceMs?: number;
  procDir?: string;
}

/** Ends the orphans found now; resolves once they are gone (or could not be ended), with their count. */
export async function endOrphanZfsProcesses(options: EndOrphansOptions): Promise<number> {
  const { logger, driver } = options;
  const orphans = findOrphanZfsProcesses(options.procDir);
  if (orphans.length === 0) return 0;
  const grace = options.graceMs ?? 1500;
  for (const orphan of orphans)
    logger.warn({ zfsPid: orphan.pid, command: orphan.argv.join(' '), owner: orphan.owner }, 'zfs process left by a zferry that is gone');
  let left = await waitGone(orphans, grace);
  const killed = new Set<number>();
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (left.length === 0) break;
    for (const orphan of left) {
      // Its own group (spawned detached): the whole group; otherwise the process alone.
      const target = orphan.group === orphan.pid ? -orphan.pid : orphan.pid;
      try {
        process.kill(target, signal);
        killed.add(orphan.pid);
        logger.warn({ zfsPid: orphan.pid, signal, group: target < 0 }, 'ended a left-over zfs process');
      } catch {
        // Gone already.
      }
    }
    left = await waitGone(left, grace);
  }
  for (const orphan of left) logger.error({ zfsPid: orphan.pid, command: orphan.argv.join(' ') }, 'a left-over zfs process could not be ended');
  for (const orphan of orphans) {
    if (killed.has(orphan.pid) && orphan.argv[1] === 'send') await releaseSendHolds(orphan.pid, orphan.argv.slice(2), driver, logger);
  }
  return orphans.length;
}

/** The orphans still running after up to `ms`. */
async function waitGone(orphans: readonly OrphanProcess[], ms: number): Promise<OrphanProcess[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = orphans.filter((orphan) => processStartTime(orphan.pid) !== undefined);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
