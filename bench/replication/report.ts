/**
 * The benchmark's output: a readable table per section, the targets with their verdicts, the
 * steady-state profile, and a final one-line JSON summary.
 */

import type { BenchContext } from './context.js';
import type { ProfileEntry } from './profile.js';
import type { Group, Summary } from './results.js';

export interface TargetCheck {
  name: string;
  /** What was compared, e.g. `bare 4.71 s / zferry 4.85 s`. */
  basis: string;
  value: number | undefined;
  /** `>= 0.95`, `<= 1.3`, ... */
  threshold: string;
  met: boolean | undefined;
}

interface TargetSpec {
  name: string;
  group: string;
  /** value = numerator median / denominator median. */
  numerator: string;
  denominator: string;
  comparison: '>=' | '<=' | '>';
  limit: number;
}

function targetSpecs(): TargetSpec[] {
  const specs: TargetSpec[] = [];
  for (const placement of ['local', 'ssh']) {
    const suffix = placement === 'ssh' ? '-ssh' : '';
    specs.push(
      {
        name: `single ${placement}: zferry speed vs raw pipe`,
        group: `single.total.${placement}`,
        numerator: `bare${suffix}`,
        denominator: `zferry${suffix}`,
        comparison: '>=',
        limit: 0.95,
      },
      {
        name: `single ${placement}: zferry speed vs syncoid`,
        group: `single.total.${placement}`,
        numerator: `syncoid${suffix}`,
        denominator: `zferry${suffix}`,
        comparison: '>',
        limit: 1,
      },
    );
  }
  for (const jobs of ['j4', 'j1']) {
    specs.push(
      {
        name: `tree steady: zferry --jobs ${jobs.slice(1)} speed vs syncoid -r`,
        group: 'tree.steady',
        numerator: 'syncoid',
        denominator: `zferry-${jobs}`,
        comparison: '>=',
        limit: 3,
      },
      {
        name: `tree steady: zferry --jobs ${jobs.slice(1)} time vs bare pipelines`,
        group: 'tree.steady',
        numerator: `zferry-${jobs}`,
        denominator: 'bare',
        comparison: '<=',
        limit: 1.3,
      },
      {
        name: `tree initial: zferry --jobs ${jobs.slice(1)} time vs bare pipelines`,
        group: 'tree.initial',
        numerator: `zferry-${jobs}`,
        denominator: 'bare',
        comparison: '<=',
        limit: 1.15,
      },
    );
  }
  return specs;
}

export function checkTargets(ctx: BenchContext): TargetCheck[] {
  return targetSpecs().map((spec) => {
    const numerator = ctx.results.medianOf(spec.group, spec.numerator);
    const denominator = ctx.results.medianOf(spec.group, spec.denominator);
    const threshold = `${spec.comparison} ${spec.limit}`;
    if (numerator === undefined || denominator === undefined) {
      return { name: spec.name, basis: `not measured (${spec.numerator} / ${spec.denominator})`, value: undefined, threshold, met: undefined };
    }
    const value = numerator / denominator;
    const met = spec.comparison === '>=' ? value >= spec.limit : spec.comparison === '<=' ? value <= spec.limit : value > spec.limit;
    return { name: spec.name, basis: `${spec.numerator} ${seconds(numerator)} / ${spec.denominator} ${seconds(denominator)}`, value, threshold, met };
  });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Rows as aligned text lines (first row = header), each indented. */
export function table(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
  );
}

export function renderReport(ctx: BenchContext, targets: readonly TargetCheck[]): string {
  const lines: string[] = [];
  const summaries = ctx.results.summaries();
  const sections = [...new Set(ctx.results.groups.map((g) => g.section))];
  for (const section of sections) {
    lines.push('', section);
    const rows: string[][] = [['work', 'contender', 'median', 'MiB/s', 'time ÷ base', 'CPU', 'runs (s)']];
    for (const group of ctx.results.groups.filter((g) => g.section === section)) {
      group.entries.forEach((entry, index) => {
        const summary = summaries.find((s) => s.key === group.key && s.id === entry.id) as Summary;
        rows.push([
          index === 0 ? group.title : '',
          entry.label,
          seconds(summary.medianMs),
          summary.mibPerSecond !== undefined ? summary.mibPerSecond.toFixed(0) : '',
          ratioText(group, summary),
          summary.medianCpuMs !== undefined ? seconds(summary.medianCpuMs) : '',
          entry.runsMs.map((ms) => (ms / 1000).toFixed(2)).join(' '),
        ]);
      });
    }
    lines.push(...table(rows));
  }
  if (sections.length > 0) {
    lines.push(
      '',
      "  time ÷ base: median wall time over the baseline's (1.00 = as fast; 2.00 = takes twice as long).",
      "  CPU: median user+system time of the contender's own processes on this host (bash/zfs clients/ssh,",
      "  node, perl/mbuffer/pv), not the zfs-fuse daemon's, and over ssh not the remote side's (sshd, zfs recv,",
      '  zferry serve): compare it within the local rows. It does not depend on other load, unlike wall time.',
    );
  }
  lines.push('', 'Targets');
  lines.push(
    ...table([
      ['target', 'measured', 'value', 'verdict'],
      ...targets.map((t) => [
        `${t.name} ${t.threshold}`,
        t.basis,
        t.value !== undefined ? `${t.value.toFixed(2)}×` : '-',
        t.met === undefined ? 'n/a' : t.met ? 'MET' : 'MISSED',
      ]),
    ]),
  );
  lines.push(...renderProfile(ctx));
  if (ctx.notes.length > 0) lines.push('', 'Notes', ...ctx.notes.map((note) => `  - ${note}`));
  return `${lines.join('\n')}\n`;
}

function ratioText(group: Group, summary: Summary): string {
  if (group.baselineId === undefined || summary.timeVsBaseline === undefined) return '';
  return summary.id === group.baselineId ? '1.00 (base)' : `${summary.timeVsBaseline.toFixed(2)}`;
}

function renderProfile(ctx: BenchContext): string[] {
  const { entries } = ctx.profile;
  if (entries.length === 0) return [];
  const filesystems = entries[0]?.filesystems ?? 0;
  const lines = [
    '',
    `Steady-state profile (a logging zfs wrapper first in PATH; ${filesystems} filesystems)`,
    '  "zfs running": time during which at least one zfs process ran; "no zfs": the rest of the wall time (the tool itself)',
  ];
  lines.push(
    ...table([
      ['contender', 'phase', 'wall', 'zfs calls', 'per fs', 'sum of zfs calls', 'zfs running', 'no zfs'],
      ...entries.map((e) => [
        e.label,
        e.phase,
        seconds(e.wallMs),
        String(e.invocations),
        (e.invocations / e.filesystems).toFixed(1),
        seconds(e.zfsMs),
        seconds(e.zfsBusyMs),
        seconds(Math.max(0, e.wallMs - e.zfsBusyMs)),
      ]),
    ]),
  );
  for (const entry of entries) {
    lines.push(`  ${entry.label}, ${entry.phase}: zfs calls per filesystem (mean ms each)`);
    lines.push(
      ...table(
        entry.byKey.map((s) => [`${(s.count / entry.filesystems).toFixed(2)} ×`, s.key, `${(s.totalMs / s.count).toFixed(1)} ms`]),
        '      ',
      ),
    );
  }
  if (ctx.profile.zferryStartupMs !== undefined)
    lines.push(`  zferry CLI start-up alone (node dist/zferry.js --version): ${seconds(ctx.profile.zferryStartupMs)}`);
  return lines;
}

export function jsonSummary(ctx: BenchContext, targets: readonly TargetCheck[]): string {
  const round = (n: number): number => Math.round(n * 10) / 10;
  const ratio = (n: number | undefined): number | null => (n === undefined ? null : Math.round(n * 1000) / 1000);
  return JSON.stringify({
    bench: 'replication',
    quick: ctx.options.quick,
    repeat: ctx.options.repeat,
    sizes: ctx.options.sizes,
    results: ctx.results.summaries().map((s) => ({
      key: s.key,
      id: s.id,
      medianMs: round(s.medianMs),
      runsMs: s.runsMs.map(round),
      medianCpuMs: s.medianCpuMs !== undefined ? round(s.medianCpuMs) : null,
      timeVsBaseline: ratio(s.timeVsBaseline),
      mibPerSecond: s.mibPerSecond !== undefined ? round(s.mibPerSecond) : null,
    })),
    targets: targets.map((t) => ({ name: t.name, threshold: t.threshold, value: ratio(t.value), met: t.met ?? null })),
    profile: {
      zferryStartupMs: ctx.profile.zferryStartupMs !== undefined ? round(ctx.profile.zferryStartupMs) : null,
      entries: ctx.profile.entries.map((e: ProfileEntry) => ({
        id: e.id,
        phase: e.phase,
        wallMs: round(e.wallMs),
        zfsMs: round(e.zfsMs),
        zfsBusyMs: round(e.zfsBusyMs),
        callsPerFilesystem: round(e.invocations / e.filesystems),
        byKey: Object.fromEntries(e.byKey.map((s) => [s.key, { count: s.count, meanMs: round(s.totalMs / s.count) }])),
      })),
    },
    notes: ctx.notes,
  });
}
