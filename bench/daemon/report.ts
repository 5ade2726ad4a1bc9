/**
 * The daemon benchmark's output: a table per scenario, the issue's limits with their verdicts,
 * and a one-line JSON summary. The arithmetic (medians, ratios, verdicts) is pure.
 */

import { table } from '../replication/report.js';
import { median } from '../replication/results.js';
import type { IdleResult } from './idle.js';
import type { SteadyResult, SteadyRun } from './steady.js';
import type { UsageSummary } from './usage.js';

/** The issue's limits. */
export const LIMITS = {
  idleCpuPercent: 1,
  /** "80 MB": read as 80 × 10^6 bytes, the stricter reading. */
  idleRssBytes: 80e6,
  steadyRatio: 1.05,
} as const;

export interface DaemonBenchResults {
  idle?: IdleResult;
  steady?: SteadyResult;
}

export interface SteadyFigures {
  wallMs: number;
  runMs: number;
  invocationMs: number | undefined;
  cpuMs: number | undefined;
}

export interface SteadyMedians {
  push: SteadyFigures;
  daemon: SteadyFigures;
  /** daemon / push -r. */
  ratio: { wall: number; run: number; cpu: number | undefined };
}

export function steadyMedians(steady: SteadyResult): SteadyMedians {
  const of = (pick: (rep: SteadyResult['reps'][number]) => SteadyRun): SteadyFigures => {
    const runs = steady.reps.map(pick);
    const medianOf = (values: (number | undefined)[]): number | undefined => {
      const known = values.filter((value): value is number => value !== undefined);
      return known.length > 0 ? median(known) : undefined;
    };
    return {
      wallMs: median(runs.map((run) => run.wallMs)),
      runMs: median(runs.map((run) => run.runMs)),
      invocationMs: medianOf(runs.map((run) => run.invocationMs)),
      cpuMs: medianOf(runs.map((run) => run.cpuMs)),
    };
  };
  const push = of((rep) => rep.push);
  const daemon = of((rep) => rep.daemon);
  return {
    push,
    daemon,
    ratio: {
      wall: daemon.wallMs / push.wallMs,
      run: daemon.runMs / push.runMs,
      cpu: daemon.cpuMs !== undefined && push.cpuMs !== undefined ? daemon.cpuMs / push.cpuMs : undefined,
    },
  };
}

export interface Check {
  name: string;
  measured: string;
  value: number;
  unit: '%' | 'MB' | '×';
  limit: number;
  met: boolean;
}

export function checkLimits(results: DaemonBenchResults): Check[] {
  const checks: Check[] = [];
  const { idle, steady } = results;
  if (idle !== undefined) {
    checks.push(
      {
        name: `idle daemon, ${idle.jobs} jobs every ${idle.interval}: CPU (% of one core)`,
        measured: `${(idle.daemon.cpuMs / 1000).toFixed(2)} s CPU in ${(idle.daemon.wallMs / 1000).toFixed(0)} s (bare node ${idle.baseline.cpuPercent.toFixed(3)} %)`,
        value: idle.daemon.cpuPercent,
        unit: '%',
        limit: LIMITS.idleCpuPercent,
        met: idle.daemon.cpuPercent <= LIMITS.idleCpuPercent,
      },
      {
        name: `idle daemon, ${idle.jobs} jobs every ${idle.interval}: RSS (max over the window)`,
        measured: `avg ${mb(idle.daemon.rssAvgKiB)} MB (bare node max ${mb(idle.baseline.rssMaxKiB)} MB)`,
        value: (idle.daemon.rssMaxKiB * 1024) / 1e6,
        unit: 'MB',
        limit: LIMITS.idleRssBytes / 1e6,
        met: idle.daemon.rssMaxKiB * 1024 <= LIMITS.idleRssBytes,
      },
    );
  }
  if (steady !== undefined) {
    const m = steadyMedians(steady);
    checks.push(
      {
        name: `steady, ${steady.filesystems} fs: the daemon's replication run / push -r's (job runner durationMs)`,
        measured: `${seconds(m.daemon.runMs)} / ${seconds(m.push.runMs)}`,
        value: m.ratio.run,
        unit: '×',
        limit: LIMITS.steadyRatio,
        met: m.ratio.run <= LIMITS.steadyRatio,
      },
      {
        name: `steady, ${steady.filesystems} fs: wakeup to end / push -r process (wall)`,
        measured: `${seconds(m.daemon.wallMs)} / ${seconds(m.push.wallMs)}`,
        value: m.ratio.wall,
        unit: '×',
        limit: LIMITS.steadyRatio,
        met: m.ratio.wall <= LIMITS.steadyRatio,
      },
    );
  }
  return checks;
}

export function renderDaemonReport(notes: readonly string[], results: DaemonBenchResults, checks: readonly Check[]): string {
  const lines: string[] = [];
  const { idle, steady } = results;
  if (idle !== undefined) {
    lines.push(
      '',
      `Idle: ${idle.jobs} push jobs every ${idle.interval} (one dataset each, nothing new to send) and a sink; ` +
        `${(idle.daemon.wallMs / 1000).toFixed(0)} s window after the first round (${(idle.firstRoundMs / 1000).toFixed(1)} s)`,
    );
    lines.push(
      ...table([
        ['process', 'CPU % of a core', 'CPU', "children's CPU", 'RSS max', 'RSS avg', 'RSS start → end', 'peak RSS since start'],
        usageRow('zferry daemon', idle.daemon, idle.daemonPeakRssKiB),
        usageRow('bare node (setInterval)', idle.baseline),
      ]),
    );
    lines.push(
      `  Daemon RSS through the window (s: MB): ${idle.daemonRssSeries.map((point) => `${point.atSeconds}: ${mb(point.rssKiB)}`).join(', ')}.`,
      `  In the window: ${idle.invocationsInWindow} invocations started (${idle.notOkInWindow} not ok), ${idle.skippedTicksInWindow} ticks skipped.`,
      "  children's CPU: the zfs commands the daemon ran and waited for (the zfs-fuse daemon's own work is not in it).",
    );
  }
  if (steady !== undefined) {
    const m = steadyMedians(steady);
    lines.push(
      '',
      `Steady state: tree of ${steady.filesystems} datasets (${steady.snapshotsAtStart} snapshots each to start with), +1 snapshot in each per repetition; median of ${steady.reps.length}`,
    );
    lines.push(
      ...table([
        ['contender', 'wall', 'run', 'invocation', 'CPU', 'wall per rep (s)', 'run per rep (s)'],
        steadyRow(
          'zferry push -r (one process per run)',
          m.push,
          steady.reps.map((rep) => rep.push),
        ),
        steadyRow(
          'daemon push job, woken (signal wakeup)',
          m.daemon,
          steady.reps.map((rep) => rep.daemon),
        ),
        ['daemon ÷ push -r', ratio(m.ratio.wall), ratio(m.ratio.run), '', m.ratio.cpu !== undefined ? ratio(m.ratio.cpu) : '', '', ''],
      ]),
    );
    lines.push(
      '  wall: process start to exit (push -r); wakeup sent to the end seen in status, polled every 20 ms (daemon).',
      "  run: the job runner's run (the same code in both; listings to last cursor): --json durationMs (push -r), the log's 'replication run ended' (daemon).",
      "  invocation: the daemon's endedAt − startedAt in status: the run plus planning, opening both sides, the sink root check, closing.",
      '  CPU: user + system of the process and the zfs commands it waited for (push -r: GNU time; daemon: /proc, its status calls included).',
      `  Order alternated per repetition: ${steady.reps.map((rep) => (rep.order[0] === 'push' ? 'P' : 'D')).join('')} (first contender). Daemon peak RSS: ${mb(steady.daemonPeakRssKiB)} MB.`,
    );
  }
  lines.push('', 'Limits (issue 16)');
  lines.push(
    ...table([
      ['limit', 'value', 'measured', 'verdict'],
      ...checks.map((check) => [
        `${check.name} ≤ ${check.limit}${check.unit === '×' ? '×' : ` ${check.unit}`}`,
        valueText(check),
        check.measured,
        check.met ? 'MET' : 'MISSED',
      ]),
    ]),
  );
  if (notes.length > 0) lines.push('', 'Notes', ...notes.map((note) => `  - ${note}`));
  return `${lines.join('\n')}\n`;
}

export function daemonJsonSummary(notes: readonly string[], results: DaemonBenchResults, checks: readonly Check[]): string {
  const round = (n: number): number => Math.round(n * 10) / 10;
  const ratioValue = (n: number | undefined): number | null => (n === undefined ? null : Math.round(n * 1000) / 1000);
  const optional = (n: number | undefined): number | null => (n !== undefined ? round(n) : null);
  const figures = (r: SteadyRun | SteadyFigures) => ({
    wallMs: round(r.wallMs),
    runMs: round(r.runMs),
    invocationMs: optional(r.invocationMs),
    cpuMs: optional(r.cpuMs),
  });
  const usage = (u: UsageSummary) => ({
    cpuPercent: Math.round(u.cpuPercent * 1000) / 1000,
    cpuMs: round(u.cpuMs),
    childrenCpuMs: round(u.childrenCpuMs),
    rssMaxKiB: u.rssMaxKiB,
    rssAvgKiB: Math.round(u.rssAvgKiB),
    rssFirstKiB: u.rssFirstKiB,
    rssLastKiB: u.rssLastKiB,
    wallMs: round(u.wallMs),
  });
  const { idle, steady } = results;
  const m = steady !== undefined ? steadyMedians(steady) : undefined;
  return JSON.stringify({
    bench: 'daemon',
    idle:
      idle === undefined
        ? null
        : {
            jobs: idle.jobs,
            interval: idle.interval,
            windowSeconds: round(idle.daemon.wallMs / 1000),
            firstRoundMs: round(idle.firstRoundMs),
            daemon: usage(idle.daemon),
            daemonPeakRssKiB: idle.daemonPeakRssKiB,
            daemonRssSeries: idle.daemonRssSeries,
            baseline: usage(idle.baseline),
            invocationsInWindow: idle.invocationsInWindow,
            notOkInWindow: idle.notOkInWindow,
            skippedTicksInWindow: idle.skippedTicksInWindow,
          },
    steady:
      steady === undefined || m === undefined
        ? null
        : {
            filesystems: steady.filesystems,
            reps: steady.reps.length,
            median: { push: figures(m.push), daemon: figures(m.daemon) },
            ratio: { wall: ratioValue(m.ratio.wall), run: ratioValue(m.ratio.run), cpu: ratioValue(m.ratio.cpu) },
            runs: steady.reps.map((rep) => ({ order: rep.order, push: figures(rep.push), daemon: figures(rep.daemon) })),
            daemonPeakRssKiB: steady.daemonPeakRssKiB,
          },
    limits: checks.map((check) => ({ name: check.name, value: Math.round(check.value * 1000) / 1000, unit: check.unit, limit: check.limit, met: check.met })),
    notes,
  });
}

function usageRow(label: string, usage: UsageSummary, peakKiB?: number): string[] {
  return [
    label,
    `${usage.cpuPercent.toFixed(3)} %`,
    `${(usage.cpuMs / 1000).toFixed(2)} s`,
    `${(usage.childrenCpuMs / 1000).toFixed(2)} s`,
    `${mb(usage.rssMaxKiB)} MB`,
    `${mb(usage.rssAvgKiB)} MB`,
    `${mb(usage.rssFirstKiB)} → ${mb(usage.rssLastKiB)} MB`,
    peakKiB !== undefined ? `${mb(peakKiB)} MB` : '',
  ];
}

function steadyRow(label: string, median: SteadyFigures, runs: readonly SteadyRun[]): string[] {
  return [
    label,
    seconds(median.wallMs),
    seconds(median.runMs),
    median.invocationMs !== undefined ? seconds(median.invocationMs) : '',
    median.cpuMs !== undefined ? seconds(median.cpuMs) : '',
    runs.map((r) => (r.wallMs / 1000).toFixed(2)).join(' '),
    runs.map((r) => (r.runMs / 1000).toFixed(2)).join(' '),
  ];
}

function valueText(check: Check): string {
  if (check.unit === '%') return `${check.value.toFixed(3)} %`;
  if (check.unit === 'MB') return `${check.value.toFixed(1)} MB`;
  return ratio(check.value);
}

function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** KiB → MB (10^6 bytes), as the limit is written. */
function mb(kib: number): string {
  return ((kib * 1024) / 1e6).toFixed(1);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
