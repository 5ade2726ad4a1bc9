/**
 * zfs-fuse holds every snapshot a `zfs send` streams under `.send-<pid>-0` and releases them
 * only when the send ends by itself (a finished stream, or EPIPE from a reader that went away).
 * A send killed by a signal (a timeout's SIGKILL, SIGABRT on a reset socket, a daemon killed
 * with it) leaves them behind, and a snapshot with a hold no cursor accounts for cannot be
 * pruned. Whoever saw it die releases them: the driver at once, a restarted daemon for the
 * orphans of one that was killed (daemon/orphans.ts).
 */
import type { Logger } from 'pino';
import type { FilesystemVersion, VersionType } from './types.js';

/** What releasing needs of the driver. */
export interface SendHoldOps {
  listVersions(filesystem: string, opts?: { types?: VersionType[] }): Promise<FilesystemVersion[]>;
  release(tag: string, snapshots: string[]): Promise<void>;
}

/**
 * Releases what the send with process id `pid` and arguments `args` (after `send`) held: its
 * `-i`/`-I` base up to the snapshot. A snapshot without that hold just answers "no such tag".
 */
export async function releaseSendHolds(pid: number, args: readonly string[], zfs: SendHoldOps, logger: Logger): Promise<void> {
  const snapshot = args.at(-1);
  if (snapshot === undefined || !snapshot.includes('@')) return;
  const filesystem = snapshot.slice(0, snapshot.indexOf('@'));
  const baseIndex = args.findIndex((arg) => arg === '-i' || arg === '-I');
  const base = baseIndex >= 0 ? args[baseIndex + 1] : undefined;
  const baseName = base?.includes('@') ? base.slice(base.indexOf('@') + 1) : base?.startsWith('#') ? undefined : base;
  let versions;
  try {
    versions = await zfs.listVersions(filesystem, { types: ['snapshot'] });
  } catch (error) {
    logger.warn({ filesystem, err: error }, 'cannot list the snapshots a left-over zfs send may still hold');
    return;
  }
  const to = versions.find((v) => v.fullName === snapshot);
  const from = baseName === undefined ? to : versions.find((v) => v.name === baseName);
  if (to === undefined) return;
  const range = versions.filter((v) => v.createtxg >= (from ?? to).createtxg && v.createtxg <= to.createtxg);
  const tag = `.send-${pid}-0`;
  let released = 0;
  for (const version of range) {
    try {
      await zfs.release(tag, [version.fullName]);
      released += 1;
    } catch {
      // No such hold: this zfs did not leave one there.
    }
  }
  if (released > 0) logger.warn({ tag, filesystem, released }, "released the left-over zfs send's holds");
}
