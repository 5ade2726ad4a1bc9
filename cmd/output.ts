/** What a finished job prints: a human summary on stderr, or the JSON summary on stdout. */
import type { JobSummary, StepResult } from '../replication/job/types.js';

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
    if (fs.steps.length > 0) detail.push(`${fs.steps.length} step${fs.steps.length === 1 ? '' : 's'}`, `${approx(fs.steps)}${formatBytes(fs.bytes)}`, formatDuration(fs.durationMs));
    lines.push(detail.length > 0 ? `${head} (${detail.join(', ')})` : head);
    for (const action of fs.actions) lines.push(`    ${action}`);
    for (const step of fs.steps) lines.push(`    ${step.from ? `${step.from} -> ${step.to}` : `full ${step.to}`}  ${approx([step])}${formatBytes(step.bytes)}`);
    if (fs.error) lines.push(`    ${fs.outcome === 'failed' ? 'error' : 'note'} [${fs.error.code}]: ${fs.error.message}`);
  }
  for (const warning of summary.warnings) lines.push(`warning: ${warning}`);
  const failed = summary.filesystems.filter((fs) => fs.outcome === 'failed').length;
  const total = summary.filesystems.length;
  lines.push(
    summary.dryRun
      ? `dry run: nothing changed (${total} filesystem${total === 1 ? '' : 's'} planned)`
      : `${failed === 0 ? 'done' : `FAILED: ${failed} of ${total} filesystem${total === 1 ? '' : 's'}`}: ${approx(summary.filesystems.flatMap((fs) => fs.steps))}${formatBytes(summary.bytes)} in ${formatDuration(summary.durationMs)}`,
  );
  return lines;
}
