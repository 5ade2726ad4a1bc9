/** What a finished job prints: a human summary on stderr, or the JSON summary on stdout. */
import type { FilesystemOutcome, JobSummary, StepResult } from '../replication/job/types.js';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `~` before a size that includes a step zfs recv sized (rounded): the stream bypassed zferry. */
function approx(steps: readonly StepResult[]): string {
  return steps.some((step) => step.bytesApproximate === true) ? '~' : '';
}

/** Lines for a person: what was (or would be) done to each filesystem, and why not. */
export function humanSummary(summary: JobSummary): string[] {
  const lines: string[] = [];
  if (summary.snapshot) lines.push(`${summary.dryRun ? 'would snapshot' : 'snapshot'} ${summary.snapshot}${summary.dryRun ? '' : ' taken'}`);
  for (const fs of summary.filesystems) {
    const head = `${fs.source} -> ${fs.target}: ${fs.outcome}`;
    if (fs.outcome === 'planned') {
      lines.push(head);
      for (const line of fs.plan) lines.push(`    ${line}`);
      continue;
    }
    const detail: string[] = [];
    if (fs.steps.length > 0)
      detail.push(`${fs.steps.length} step${fs.steps.length === 1 ? '' : 's'}`, `${approx(fs.steps)}${formatBytes(fs.bytes)}`, formatDuration(fs.durationMs));
    lines.push(detail.length > 0 ? `${head} (${detail.join(', ')})` : head);
    for (const action of fs.actions) lines.push(`    ${action}`);
    for (const step of fs.steps) lines.push(`    ${step.from ? `${step.from} -> ${step.to}` : `full ${step.to}`}  ${approx([step])}${formatBytes(step.bytes)}`);
    if (fs.error) lines.push(`    ${ERROR_LABELS[fs.outcome] ?? 'note'} [${fs.error.code}]: ${fs.error.message}`);
  }
  for (const warning of summary.warnings) lines.push(`warning: ${warning}`);
  const total = summary.filesystems.length;
  const filesystems = (count: number): string => `${count} of ${total} filesystem${total === 1 ? '' : 's'}`;
  const count = (outcome: FilesystemOutcome): number => summary.filesystems.filter((fs) => fs.outcome === outcome).length;
  const failed = count('failed');
  const head =
    summary.outcome === 'interrupted'
      ? `INTERRUPTED: ${filesystems(count('interrupted'))} not finished${failed > 0 ? `, ${failed} failed` : ''}`
      : failed === 0
        ? 'done'
        : `FAILED: ${filesystems(failed)}`;
  lines.push(
    summary.dryRun
      ? `dry run: nothing changed (${total} filesystem${total === 1 ? '' : 's'} planned)`
      : `${head}: ${approx(summary.filesystems.flatMap((fs) => fs.steps))}${formatBytes(summary.bytes)} in ${formatDuration(summary.durationMs)}`,
  );
  return lines;
}

/** How a filesystem's error line starts; a note otherwise (e.g. why it was skipped). */
const ERROR_LABELS: Partial<Record<FilesystemOutcome, string>> = { failed: 'error', interrupted: 'stopped' };
