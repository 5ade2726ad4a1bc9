/**
 * `zferry status` for people: the daemon's status (daemon/status-types.ts) as lines of text,
 * relative to a given instant: per job its state, schedule, next run, skipped ticks, the
 * invocation going on and the last one; per filesystem its step, a progress bar with bytes,
 * rate and time left, the last replicated snapshot and its age, and the last error. Pure (status
 * and clock in, lines out), so the same frame is printed once or redrawn by `--watch`. A job with
 * an rpo says how many filesystems are late, and each late one says so in capitals.
 */
import type { DaemonStatus, FilesystemStatusView, InvocationView, JobStatusView } from '../daemon/status-types.js';
import { formatBytes } from './output.js';
import { formatClock } from './progress.js';

export interface StatusViewOptions {
  /** The instant ages and times to come are measured from. */
  now: Date;
}

/** `45s`, `3m 12s`, `2h 5m`, `3d 4h`, `10m`: two units at most, the larger first, a zero second one left out. */
export function formatAge(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const units: [number, string][] = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  const index = units.findIndex(([size]) => total >= size);
  if (index === -1) return '0s';
  const [size, unit] = units[index]!;
  const next = units[index + 1];
  const head = `${Math.floor(total / size)}${unit}`;
  const rest = next === undefined ? 0 : Math.floor((total % size) / next[0]);
  return next === undefined || rest === 0 ? head : `${head} ${rest}${next[1]}`;
}

/** `in 4m 12s` or `3m ago` from `now`; `now` within a second. */
export function formatRelative(iso: string, now: Date): string {
  const seconds = (Date.parse(iso) - now.getTime()) / 1000;
  if (Number.isNaN(seconds)) return iso;
  if (Math.abs(seconds) < 1) return 'now';
  return seconds > 0 ? `in ${formatAge(seconds)}` : `${formatAge(-seconds)} ago`;
}

/** `[=========>          ]`: `fraction` (0–1) of `width` cells filled; full at 1 and beyond. */
export function progressBar(fraction: number, width = 20): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.floor(clamped * width);
  const body = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  return `[${body}]`;
}

export function renderStatus(status: DaemonStatus, options: StatusViewOptions): string[] {
  const { now } = options;
  const lines = [
    `zferry ${status.version} daemon, pid ${status.pid}, up ${formatAge((now.getTime() - Date.parse(status.startedAt)) / 1000)}; ` +
      `config ${status.config}, loaded ${formatRelative(status.configLoadedAt, now)}`,
  ];
  if (status.jobs.length === 0) lines.push('', 'no jobs');
  for (const job of status.jobs) {
    lines.push('', ...renderJob(job, now));
    // A sink's or source's clients connected now.
    for (const client of status.connections ?? []) {
      if (client.job === job.name)
        lines.push(detail('client', `${client.identity} over ${client.transport} (${client.peer}), since ${formatRelative(client.since, now)}`));
    }
  }
  return lines;
}

/** The label column of a job's detail lines. */
const LABEL_WIDTH = 12;

function detail(label: string, text: string): string {
  return `  ${label.padEnd(LABEL_WIDTH)}${text}`;
}

function renderJob(job: JobStatusView, now: Date): string[] {
  const lines = [`${job.name}  ${job.type}  ${job.state}`];
  if (job.schedule !== undefined) {
    const next = job.nextRunAt === undefined ? '' : `; next run ${Date.parse(job.nextRunAt) <= now.getTime() ? 'due now' : formatRelative(job.nextRunAt, now)}`;
    lines.push(detail('schedule', `${job.schedule}${next}`));
  }
  if (job.skippedTicks > 0) {
    const last = job.lastSkippedAt === undefined ? '' : `, last ${formatRelative(job.lastSkippedAt, now)}`;
    lines.push(detail('skipped', `${job.skippedTicks} tick${job.skippedTicks === 1 ? '' : 's'} while a run was still going${last}`));
  }
  if (job.rpo !== undefined) {
    const late = job.late ?? 0;
    lines.push(detail('rpo', `${job.rpo}; ${late === 0 ? 'no filesystem late' : `${late} filesystem${late === 1 ? '' : 's'} LATE`}`));
  }
  if (job.current !== undefined) lines.push(...renderInvocation('running', job.current, now));
  if (job.last !== undefined) lines.push(...renderInvocation('last run', job.last, now));
  for (const fs of job.filesystems) lines.push(...renderFilesystem(fs, now, job.rpo));
  return lines;
}

function renderInvocation(label: string, run: InvocationView, now: Date): string[] {
  const parts: string[] = [];
  if (run.outcome !== undefined) parts.push(run.outcome === 'ok' ? 'ok' : run.outcome.toUpperCase());
  parts.push(`started ${formatRelative(run.startedAt, now)} (${run.trigger})`);
  if (run.endedAt !== undefined) {
    parts.push(`ended ${formatRelative(run.endedAt, now)}`, `took ${formatAge((Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000)}`);
  }
  if (run.attempts > 1 || run.endedAt === undefined) parts.push(`${run.attempts} attempt${run.attempts === 1 ? '' : 's'}`);
  parts.push(formatBytes(run.bytes));
  const lines = [detail(label, parts.join(', '))];
  if (run.error !== undefined) lines.push(detail('', `error [${run.error.code}] ${run.error.message}`));
  return lines;
}

function renderFilesystem(fs: FilesystemStatusView, now: Date, rpo: string | undefined): string[] {
  const running = fs.state === 'running' || fs.state === 'verifying';
  const steps = running ? `step ${Math.min(fs.stepsDone + 1, fs.stepsTotal)}/${fs.stepsTotal}` : `${fs.stepsDone}/${fs.stepsTotal} steps`;
  const head = [fs.state, ...(fs.stepsTotal > 0 ? [fs.step === undefined ? steps : `${steps}: ${fs.step}`] : [])];
  if (!running && fs.bytes > 0) head.push(formatBytes(fs.bytes));
  const lines = [`  ${fs.source} → ${fs.target}  ${head.join(', ')}`];
  if (running) lines.push(`    ${describeProgress(fs)}`);
  if (fs.lastReplicated !== undefined) lines.push(`    last replicated ${fs.lastReplicated.snapshot}, ${formatAge(fs.lastReplicated.ageSeconds)} old`);
  if (fs.late === true) {
    const newest = fs.lastReplicated === undefined ? 'nothing replicated yet' : `newest replicated ${formatAge(fs.lastReplicated.ageSeconds)} old`;
    lines.push(`    LATE (rpo ${rpo ?? '?'}, ${newest})`);
  }
  if (fs.lastError !== undefined) lines.push(`    error [${fs.lastError.code}] ${fs.lastError.message} (${formatRelative(fs.lastError.at, now)})`);
  return lines;
}

/** A running step: a bar where its size is known, else bytes and rate alone. */
function describeProgress(fs: FilesystemStatusView): string {
  const rate = `${formatBytes(fs.rate)}/s`;
  // bytesTotal is the running step's size: measure it against that step's bytes where told.
  const bytes = fs.stepBytes ?? fs.bytes;
  if (fs.bytesTotal === undefined || fs.bytesTotal <= 0) return `${formatBytes(bytes)}  ${rate}`;
  const fraction = bytes / fs.bytesTotal;
  const eta = fs.etaSeconds === undefined ? '' : `  ${formatClock(fs.etaSeconds)} left`;
  return `${progressBar(fraction)} ${Math.min(100, Math.floor(fraction * 100))}%  ${formatBytes(bytes)} of ${formatBytes(fs.bytesTotal)}  ${rate}${eta}`;
}

/** Lines cut to a terminal's width (a wrapped line would break the redraw of `--watch`). */
export function fitWidth(lines: readonly string[], columns: number): string[] {
  const width = Math.max(10, columns - 1);
  return lines.map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line));
}
