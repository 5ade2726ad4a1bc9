/**
 * Which `zfs send` processes are running, told to whoever keeps a journal of them. On zfs-fuse
 * a send holds every snapshot of its stream under `.send-<pid>-0` and releases them only when
 * it ends by itself; one killed with its reader (a `kill -9` of the process reading the stream
 * resets the connection under it) leaves them, and `zfs holds` cannot list them there. A
 * daemon keeps a journal on disk, so that its next start can release what a killed send left.
 */

export interface SendJournal {
  /** A send started: `args` are its arguments after the binary. */
  started(pid: number, args: readonly string[]): void;
  /** It exited (however). */
  ended(pid: number): void;
}

let journal: SendJournal | undefined;

/** From now on every `zfs send` of this process is told to `next` (undefined: to nobody). */
export function setSendJournal(next: SendJournal | undefined): void {
  journal = next;
}

export function sendJournal(): SendJournal | undefined {
  return journal;
}
