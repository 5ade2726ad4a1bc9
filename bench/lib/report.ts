/**
 * Bench peers report to the orchestrator as JSON lines on stderr, prefixed so that other
 * output (warnings) is ignored; stdout is left free because it may carry the data itself.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const PREFIX = '@bench ';

export type Report = Record<string, unknown>;

/** Absolute time in milliseconds, comparable between processes on this machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** CPU time (user + system, ms) this process used since `since` (a process.cpuUsage() value). */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

export function report(fields: Report): void {
  process.stderr.write(`${PREFIX}${JSON.stringify(fields)}\n`);
}

/** Collects a child's reports; `next(key)` waits for the first report holding `key`. */
export class ReportReader {
  readonly #reports: Report[] = [];
  readonly #waiters: Array<() => void> = [];
  readonly #otherLines: string[] = [];
  #ended = false;

  constructor(child: ChildProcess) {
    if (!child.stderr) throw new Error('bench peer spawned without a stderr pipe');
    const lines = createInterface({ input: child.stderr });
    lines.on('line', (line) => {
      if (line.startsWith(PREFIX)) this.#reports.push(JSON.parse(line.slice(PREFIX.length)) as Report);
      else this.#otherLines.push(line);
      this.#wake();
    });
    lines.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async next(key: string): Promise<Report> {
    for (;;) {
      const found = this.#reports.find((r) => key in r);
      if (found) {
        this.#reports.splice(this.#reports.indexOf(found), 1);
        return found;
      }
      if (this.#ended) throw new Error(`bench peer ended without reporting "${key}"; its stderr:\n${this.#otherLines.join('\n')}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  otherOutput(): string {
    return this.#otherLines.join('\n');
  }
}

export function numberField(r: Report, key: string): number {
  const value = r[key];
  if (typeof value !== 'number') throw new Error(`bench report lacks a number "${key}": ${JSON.stringify(r)}`);
  return value;
}
