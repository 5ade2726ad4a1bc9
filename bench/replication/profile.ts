/**
 * Where the per-dataset time goes in the steady state: every contender runs one more steady
 * round with a logging `zfs` wrapper first in PATH, which records each invocation (arguments,
 * exit code, start and end). Counts per dataset and time inside zfs show what a tool asks of
 * zfs beyond the bare `send | recv`; wall time minus zfs time is the tool's own overhead.
 * The wrapper (bash, no forks for the clock) adds a few ms per call to the wall time, so these
 * runs are reported apart from the timed figures.
 */

import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkCommand } from './command.js';
import type { BenchContext } from './context.js';
import type { Tree, TreeContender } from './dataset-tree.js';
import { progress } from './log.js';
import type { ReplicationTask } from './replicators.js';
import { median } from './results.js';

export interface InvocationStats {
  /** `send -i`, `recv`, `get guid,createtxg,creation`, `hold`, ... */
  key: string;
  count: number;
  totalMs: number;
}

export interface ProfileEntry {
  id: string;
  label: string;
  phase: 'steady' | 'no-op';
  filesystems: number;
  wallMs: number;
  invocations: number;
  /** Sum of the invocations' durations (pipelines and --jobs overlap them). */
  zfsMs: number;
  /** Time during which at least one zfs process ran: wall minus this is the tool's own time. */
  zfsBusyMs: number;
  byKey: InvocationStats[];
}

export interface Profile {
  entries: ProfileEntry[];
  /** `node dist/zferry.js --version`: the CLI's start-up alone. */
  zferryStartupMs?: number;
}

export interface ProfileHooks {
  reset(): Promise<void>;
  initialTask(tree: Tree): ReplicationTask;
  steadyTask(tree: Tree): ReplicationTask;
  addSteadySnapshot(ctx: BenchContext, tree: Tree): Promise<void>;
}

const PROFILED = new Set(['bare', 'zferry-j1', 'zferry-j4', 'syncoid']);

export async function profileSteadyState(ctx: BenchContext, tree: Tree, contenders: readonly TreeContender[], hooks: ProfileHooks): Promise<void> {
  const realZfs = (await checkCommand(['bash', '-c', 'command -v zfs'])).stdout.trim();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-bench-trace-'));
  try {
    const wrapper = path.join(dir, 'zfs');
    await writeFile(wrapper, wrapperScript(realZfs));
    await chmod(wrapper, 0o755);
    const env = (log: string): Record<string, string> => ({ PATH: `${dir}:${process.env['PATH'] ?? ''}`, ZFB_TRACE_LOG: log });
    for (const contender of contenders) {
      const { replicator } = contender;
      if (!PROFILED.has(replicator.id) || ctx.failed.has(`${replicator.id} tree`)) continue;
      await hooks.reset();
      await replicator.replicate(hooks.initialTask(tree));
      await hooks.addSteadySnapshot(ctx, tree);
      const phases: ProfileEntry['phase'][] = contender.plans ? ['steady', 'no-op'] : ['steady'];
      for (const phase of phases) {
        const log = path.join(dir, `${replicator.id}-${phase}.log`);
        await writeFile(log, '');
        const run = await replicator.replicate(hooks.steadyTask(tree), { env: env(log) });
        const entry = summarise(await readFile(log, 'utf8'), {
          id: replicator.id,
          label: replicator.label,
          phase,
          filesystems: tree.filesystems.length,
          wallMs: run.ms,
        });
        ctx.profile.entries.push(entry);
        progress(
          `profile ${replicator.label} ${phase}: ${entry.invocations} zfs calls (${(entry.invocations / entry.filesystems).toFixed(1)}/fs), ` +
            `zfs running ${(entry.zfsBusyMs / 1000).toFixed(2)} s of ${(entry.wallMs / 1000).toFixed(2)} s`,
        );
      }
    }
    if (ctx.zferryCli !== undefined) {
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) runs.push((await checkCommand([process.execPath, ctx.zferryCli, '--version'])).ms);
      ctx.profile.zferryStartupMs = median(runs);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** bash's EPOCHREALTIME reads the clock without forking `date`. */
function wrapperScript(realZfs: string): string {
  return [
    '#!/bin/bash',
    '# Logs each zfs invocation for the replication benchmark profile, then passes its exit code on.',
    's=$EPOCHREALTIME',
    `${JSON.stringify(realZfs)} "$@"`,
    'rc=$?',
    'e=$EPOCHREALTIME',
    'printf \'%s %s %s %s\\n\' "$s" "$e" "$rc" "$*" >> "$ZFB_TRACE_LOG"',
    'exit $rc',
    '',
  ].join('\n');
}

function summarise(log: string, run: Omit<ProfileEntry, 'invocations' | 'zfsMs' | 'zfsBusyMs' | 'byKey'>): ProfileEntry {
  const byKey = new Map<string, InvocationStats>();
  const intervals: [number, number][] = [];
  let zfsMs = 0;
  for (const line of log.split('\n')) {
    const [start, end, exitCode, ...args] = line.split(' ');
    if (start === undefined || end === undefined || args.length === 0) continue;
    const interval: [number, number] = [Number(start) * 1000, Number(end) * 1000];
    const ms = interval[1] - interval[0];
    const key = withOutcome(invocationKey(args), Number(exitCode));
    const stats = byKey.get(key) ?? { key, count: 0, totalMs: 0 };
    stats.count += 1;
    stats.totalMs += ms;
    byKey.set(key, stats);
    intervals.push(interval);
    zfsMs += ms;
  }
  return {
    ...run,
    invocations: intervals.length,
    zfsMs,
    zfsBusyMs: unionLength(intervals),
    byKey: [...byKey.values()].sort((a, b) => b.count - a.count || b.totalMs - a.totalMs),
  };
}

/** Time during which at least one zfs process ran (pipelines and --jobs overlap them). */
function unionLength(intervals: [number, number][]): number {
  let total = 0;
  let current: [number, number] | undefined;
  for (const [start, end] of [...intervals].sort((a, b) => a[0] - b[0])) {
    if (current && start <= current[1]) {
      current[1] = Math.max(current[1], end);
    } else {
      if (current) total += current[1] - current[0];
      current = [start, end];
    }
  }
  return total + (current ? current[1] - current[0] : 0);
}

/**
 * zfs exits 2 on usage errors: a tool probing for options this zfs lacks (`send -c`, ...).
 * Those are probes, not work, and other failures are worth seeing too.
 */
function withOutcome(key: string, exitCode: number): string {
  if (exitCode === 0) return key;
  if (exitCode === 2) return `probe: ${key.split(' ')[0] ?? key} (usage error)`;
  return `${key} (exit ${exitCode})`;
}

/** Single-letter options that take a value (`-d 1`, `-o name`, `-Hpd 1`). */
const VALUE_LETTERS = new Set(['d', 'o', 's', 't', 'S']);

/** `send -i`, `recv`, `get guid,createtxg,creation`, `hold`, ...: what was asked of zfs. */
function invocationKey(args: string[]): string {
  const [subcommand, ...rest] = args;
  const flags: string[] = [];
  const operands: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg.startsWith('-') && arg.length > 1) {
      flags.push(...arg.slice(1));
      if (VALUE_LETTERS.has(arg.at(-1) as string)) i += 1;
    } else {
      operands.push(arg);
    }
  }
  switch (subcommand) {
    case 'send':
      if (flags.includes('n')) return 'send -n (size estimate)';
      return flags.includes('I') ? 'send -I' : flags.includes('i') ? 'send -i' : 'send (full)';
    case 'receive':
    case 'recv':
      return 'recv';
    case 'get':
      return `get ${operands[0] ?? ''}${flags.includes('r') ? ' -r' : ''}`;
    case 'list':
      return `list${flags.includes('r') ? ' -r' : ''}`;
    default:
      return subcommand ?? '';
  }
}
