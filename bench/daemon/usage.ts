/**
 * A process's cost over a window: CPU time (its own, and its waited-for children's) as a share
 * of one core, and its resident memory, sampled from /proc every second or so. Reading /proc
 * costs the sampled process nothing: no signal, no syscall of its own.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { readProcess, type ProcSample } from './proc.js';

export interface UsageSummary {
  /** Between the first and the last sample. */
  wallMs: number;
  /** The process's own CPU time (user + system) in the window. */
  cpuMs: number;
  /** CPU time of the children it waited for in the window (e.g. zfs commands). */
  childrenCpuMs: number;
  /** cpuMs over wallMs, in % of one core. */
  cpuPercent: number;
  rssMaxKiB: number;
  /** At the first and the last sample. */
  rssFirstKiB: number;
  rssLastKiB: number;
  /** Mean of the samples, which are evenly spaced. */
  rssAvgKiB: number;
  samples: number;
}

/** Summarizes evenly spaced samples of one process (first and last bound the window). */
export function summarizeUsage(samples: readonly ProcSample[], ticksPerSecond: number): UsageSummary {
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined || samples.length < 2) throw new RangeError('summarizeUsage needs at least two samples');
  const msPerTick = 1000 / ticksPerSecond;
  const wallMs = last.atMs - first.atMs;
  const cpuMs = (last.cpu.own - first.cpu.own) * msPerTick;
  const childrenCpuMs = (last.cpu.children - first.cpu.children) * msPerTick;
  const rss = samples.map((sample) => sample.rssKiB);
  return {
    wallMs,
    cpuMs,
    childrenCpuMs,
    cpuPercent: wallMs > 0 ? (cpuMs / wallMs) * 100 : Number.NaN,
    rssMaxKiB: Math.max(...rss),
    rssFirstKiB: first.rssKiB,
    rssLastKiB: last.rssKiB,
    rssAvgKiB: rss.reduce((sum, kib) => sum + kib, 0) / rss.length,
    samples: samples.length,
  };
}

export interface SampleOptions {
  windowMs: number;
  intervalMs: number;
  /** Called after each round of samples (progress). */
  onRound?: (elapsedMs: number) => void;
}

/** Samples every process in `pids` together over the window; throws when one of them goes away. */
export async function sampleUsage<K extends string>(pids: Readonly<Record<K, number>>, options: SampleOptions): Promise<Record<K, ProcSample[]>> {
  const labels = Object.keys(pids) as K[];
  const samples = Object.fromEntries(labels.map((label) => [label, [] as ProcSample[]])) as Record<K, ProcSample[]>;
  const started = performance.now();
  for (let round = 0; ; round++) {
    const read = await Promise.all(labels.map((label) => readProcess(pids[label])));
    labels.forEach((label, i) => samples[label].push(read[i] as ProcSample));
    const elapsed = performance.now() - started;
    options.onRound?.(elapsed);
    if (elapsed >= options.windowMs) return samples;
    // Aligned to the start, so the samples stay evenly spaced (the RSS mean relies on that).
    const next = Math.min(options.windowMs, (round + 1) * options.intervalMs);
    await sleep(Math.max(0, next - (performance.now() - started)));
  }
}
