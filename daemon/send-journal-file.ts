/**
 * The daemon's journal of running `zfs send` processes (replication/zfs/send-journal.ts): one
 * small file per send in `<state_dir>/sends/`, written when it starts and removed when it
 * exits. A file left by a zferry that is gone names a send that may have died with it and left
 * its `.send-<pid>-0` holds (zfs-fuse): the next start releases them (orphans.ts) and removes
 * the file.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../platform/errors.js';
import { ownerAlive, ownerMark, processStartTime } from '../platform/process-owner.js';
import type { SendJournal } from '../replication/zfs/send-journal.js';
import type { ZfsDriver } from '../replication/zfs/index.js';
import { releaseSendHolds } from '../replication/zfs/send-holds.js';

interface Entry {
  owner: string;
  args: string[];
}

export function sendJournalDir(stateDir: string): string {
  return path.join(stateDir, 'sends');
}

/** Writes are synchronous and tiny (a send is a process start anyway); a failure is logged once, never thrown. */
export class FileSendJournal implements SendJournal {
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #owner = ownerMark();
  #warned = false;

  constructor(dir: string, logger: Logger) {
    this.#dir = dir;
    this.#logger = logger;
  }

  started(pid: number, args: readonly string[]): void {
    this.#safely(() => {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      writeFileSync(path.join(this.#dir, String(pid)), JSON.stringify({ owner: this.#owner, args: [...args] } satisfies Entry));
    });
  }

  ended(pid: number): void {
    this.#safely(() => rmSync(path.join(this.#dir, String(pid)), { force: true }));
  }

  #safely(action: () => void): void {
    try {
      action();
    } catch (error) {
      if (this.#warned) return;
      this.#warned = true;
      this.#logger.warn({ dir: this.#dir, reason: errorMessage(error) }, 'cannot keep the journal of running zfs sends (a kill -9 may leak their holds)');
    }
  }
}

/**
 * Releases the holds of sends whose zferry is gone (run after the orphans are ended). A pid that
 * is running again (another process got it) is left for a later start: its `.send-<pid>-0` may be
 * that process's own.
 */
export async function releaseLeftSendHolds(dir: string, driver: ZfsDriver, logger: Logger): Promise<number> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return 0;
  }
  let released = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    let entry: Entry;
    try {
      entry = JSON.parse(readFileSync(file, 'utf8')) as Entry;
    } catch {
      rmSync(file, { force: true });
      continue;
    }
    if (ownerAlive(entry.owner) || processStartTime(Number(name)) !== undefined) {
      logger.debug({ zfsPid: Number(name), owner: entry.owner }, 'journalled zfs send: its zferry or the process still runs');
      continue;
    }
    logger.warn(
      { zfsPid: Number(name), command: ['zfs', ...entry.args].join(' '), owner: entry.owner },
      'a zfs send ended with the zferry that ran it: releasing its holds',
    );
    await releaseSendHolds(Number(name), entry.args.slice(1), driver, logger);
    rmSync(file, { force: true });
    released += 1;
  }
  return released;
}
