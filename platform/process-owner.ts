/**
 * Which process started a child, written into the child's environment so that it can be
 * recognised after its parent died (`kill -9` of a daemon mid-transfer): `<pid>:<start time>`.
 * The start time (clock ticks since boot, /proc/PID/stat field 22) tells a live owner from
 * another process that was given the same pid later. Linux; elsewhere the pid alone.
 */
import { readFileSync } from 'node:fs';

/** The environment variable that carries the owner's mark. */
export const OWNER_ENV = 'ZFERRY_OWNER';

/** /proc/PID/stat's fields after the command name (state first), or undefined when it is gone. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * When `pid` started (clock ticks since boot), or undefined when it is gone or unknown. A
 * zombie (exited, its parent has not collected it yet) counts as gone.
 */
export function processStartTime(pid: number): string | undefined {
  const fields = statFields(pid);
  if (fields === undefined || fields[0] === 'Z') return undefined;
  // Field 22 overall is the 20th after comm (state is field 3).
  return fields[19];
}

/** This process's mark. */
export function ownerMark(pid = process.pid): string {
  const started = processStartTime(pid);
  return started === undefined ? String(pid) : `${pid}:${started}`;
}

/** True while the process a mark names is the one that wrote it. */
export function ownerAlive(mark: string): boolean {
  const [pidText = '', started] = mark.split(':');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = processStartTime(pid);
  if (now === undefined) {
    // No /proc entry: gone on Linux; elsewhere ask the kernel.
    if (process.platform === 'linux') return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  return started === undefined || started === now;
}
