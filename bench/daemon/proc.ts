/**
 * What Linux says about a process's cost: CPU time from /proc/<pid>/stat (in clock ticks) and
 * resident memory from /proc/<pid>/status. The parsers are pure (tested); readProcess() reads
 * both files of a live process.
 */

import { readFile } from 'node:fs/promises';
import { BenchSetupError } from '../replication/errors.js';

/** CPU time of a process in clock ticks (sysconf(_SC_CLK_TCK), see clockTicksPerSecond()). */
export interface ProcCpuTicks {
  /** utime + stime: the process's own threads. */
  own: number;
  /** cutime + cstime: its children that it has waited for (the daemon's zfs commands). */
  children: number;
}

/** The fields of /proc/<pid>/stat after the command name, counted from 3 (state). */
const FIRST_FIELD_AFTER_COMM = 3;
const UTIME = 14;
const STIME = 15;
const CUTIME = 16;
const CSTIME = 17;

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself hold
 * spaces and parentheses, so the fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcCpuTicks {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new BenchSetupError(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number): number => {
    const value = Number(fields[n - FIRST_FIELD_AFTER_COMM]);
    if (!Number.isInteger(value) || value < 0)
      throw new BenchSetupError(`/proc/<pid>/stat field ${n} is not a tick count: ${JSON.stringify(text.slice(0, 200))}`);
    return value;
  };
  return { own: field(UTIME) + field(STIME), children: field(CUTIME) + field(CSTIME) };
}

/**
 * A memory line of /proc/<pid>/status in KiB (the kernel's "kB" are KiB): `VmRSS` resident now,
 * `VmHWM` the peak resident since the process started.
 */
export function parseStatusKiB(text: string, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
  if (match?.[1] === undefined) throw new BenchSetupError(`no ${field} line in /proc/<pid>/status (a zombie or a kernel thread?)`);
  return Number(match[1]);
}

export interface ProcSample {
  /** performance.now() when read. */
  atMs: number;
  cpu: ProcCpuTicks;
  rssKiB: number;
  /** Peak RSS since the process started. */
  peakRssKiB: number;
}

/** Reads one sample of a live process; throws BenchSetupError when it is gone. */
export async function readProcess(pid: number): Promise<ProcSample> {
  try {
    const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
    return { atMs: performance.now(), cpu: parseProcStat(stat), rssKiB: parseStatusKiB(status, 'VmRSS'), peakRssKiB: parseStatusKiB(status, 'VmHWM') };
  } catch (error) {
    if (error instanceof BenchSetupError) throw error;
    throw new BenchSetupError(`cannot read /proc/${pid}: the process has gone`, { cause: error });
  }
}

/** The kernel's clock ticks per second for /proc times (`getconf CLK_TCK`; 100 on Linux). */
export async function clockTicksPerSecond(run: (argv: string[]) => Promise<{ exitCode: number | null; stdout: string }>): Promise<number> {
  const result = await run(['getconf', 'CLK_TCK']).catch(() => undefined);
  const ticks = Number(result?.stdout.trim());
  return result?.exitCode === 0 && Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
}
