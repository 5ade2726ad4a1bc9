/** What a finished job prints: a human summary on stderr, or the JSON summary on stdout. */
import type { JobSummary } from '../replication/job/types.js';

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
    // `~`: sizes zfs recv reported (rounded), when the stream went straight from zfs send.
    const approx = (approximate: boolean): string => (approximate ? '~' : '');
    const fsApprox = fs.steps.some((step) => step.bytesApproximate === true);
    if (fs.steps.length > 0) detail.push(`${fs.steps.length} step${fs.steps.length === 1 ? '' : 's'}`, `${approx(fsApprox)}${formatBytes(fs.bytes)}`, formatDuration(fs.durationMs));
    lines.push(detail.length > 0 ? `${head} (${detail.join(', ')})` : head);
    for (const action of fs.actions) lines.push(`    ${action}`);
    for (const step of fs.steps) lines.push(`    ${step.from ? `${step.from} -> ${step.to}` : `full ${step.to}`}  ${approx(step.bytesApproximate === true)}${formatBytes(step.bytes)}`);
    if (fs.error) lines.push(`    ${fs.outcome === 'failed' ? 'error' : 'note'} [${fs.error.code}]: ${fs.error.message}`);
  }
  for (const warning of summary.warnings) lines.push(`warning: ${warning}`);
  const failed = summary.filesystems.filter((fs) => fs.outcome === 'failed').length;
  const total = summary.filesystems.length;
  const anyApprox = summary.filesystems.some((fs) => fs.steps.some((step) => step.bytesApproximate === true));
  lines.push(
    summary.dryRun
      ? `dry run: nothing changed (${total} filesystem${total === 1 ? '' : 's'} planned)`
      : `${failed === 0 ? 'done' : `FAILED: ${failed} of ${total} filesystem${total === 1 ? '' : 's'}`}: ${anyApprox ? '~' : ''}${formatBytes(summary.bytes)} in ${formatDuration(summary.durationMs)}`,
  );
  return lines;
}
