/** This machine's processes as /proc shows them (Linux). */
import { readdirSync, readFileSync } from 'node:fs';

export interface ChildProcessInfo {
  pid: number;
  /** The command name (comm), as /proc/PID/stat gives it. */
  command: string;
}

/**
 * The direct children of `parent`, including exited ones not yet reaped (a zombie keeps its
 * name in /proc/PID/stat).
 */
export function childProcesses(parent: number): ChildProcessInfo[] {
  const children: ChildProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // `pid (comm) state ppid ...`; comm may contain spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    if (ppid === parent) children.push({ pid: Number(entry), command: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return children;
}
