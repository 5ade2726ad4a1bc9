/**
 * Scenario 1, idle cost: a daemon with N push jobs every minute, one small dataset each, to a
 * sink of the same config. Once every job's first run has replicated its dataset, nothing new
 * comes: the ticks that follow find nothing to send. Over the window (two rounds of ticks by
 * default) the daemon's CPU time and RSS are sampled from /proc, and so are those of a bare
 * node process (`setInterval`) started with it: the floor any node service pays.
 */

import path from 'node:path';
import { writeRandom } from '../replication/data.js';
import { BenchSetupError } from '../replication/errors.js';
import { progress } from '../replication/log.js';
import { assertReplica, zfs } from '../replication/zfs.js';
import { daemonConfigYaml, sinkTargetOf, type PushSpec, type SinkSpec } from './config-yaml.js';
import type { DaemonBenchContext } from './context.js';
import { invocationFailure, makeDaemonDir, startDaemon, type BenchDaemon, type LogLine } from './daemon-process.js';
import { spawnTracked } from './processes.js';
import { readProcess } from './proc.js';
import { sampleUsage, summarizeUsage, type UsageSummary } from './usage.js';

const KiB = 1024;
const FILE_KIB = 64;
const SAMPLE_EVERY_MS = 1000;
/** The RSS curve in the report: one sample in this many. */
const SERIES_EVERY = 15;
/** The bare node baseline: a timer so that it stays alive, as the daemon's do. */
const BARE_NODE_SCRIPT = 'setInterval(() => {}, 60000)';

export interface IdleResult {
  jobs: number;
  interval: string;
  /** From the daemon's start until every job's first run had ended ok. */
  firstRoundMs: number;
  daemon: UsageSummary;
  baseline: UsageSummary;
  /** The daemon's peak RSS since it started (VmHWM at the end), the first round included. */
  daemonPeakRssKiB: number;
  /** The daemon's RSS every SERIES_EVERY samples through the window (how it comes down, or not). */
  daemonRssSeries: { atSeconds: number; rssKiB: number }[];
  /** Invocations that started during the window, and how many of them did not end ok. */
  invocationsInWindow: number;
  notOkInWindow: number;
  skippedTicksInWindow: number;
}

export async function runIdle(ctx: DaemonBenchContext): Promise<IdleResult> {
  const jobs = ctx.options.idleJobs;
  const interval = '1m';
  const parent = ctx.source.dataset('idle');
  const datasets = Array.from({ length: jobs }, (_, i) => `${parent}/d${String(i).padStart(2, '0')}`);
  progress(`idle: ${jobs} datasets with one snapshot each`);
  await zfs('create', parent);
  for (const dataset of datasets) {
    await zfs('create', dataset);
    await writeRandom(path.join(mountpointOf(ctx, dataset), 'data.bin'), FILE_KIB * KiB);
  }
  await zfs('snapshot', '-r', `${parent}@i1`);
  const sink: SinkSpec = { name: 'sink', rootFs: ctx.target.dataset('idle-sink') };
  await zfs('create', sink.rootFs);
  const pushes: PushSpec[] = datasets.map((dataset, i) => ({ name: `idle-${String(i).padStart(2, '0')}`, filesystems: { [dataset]: true }, interval }));

  const dir = await makeDaemonDir();
  const baseline = spawnTracked([process.execPath, '-e', BARE_NODE_SCRIPT], { label: 'bare node' });
  let daemon: BenchDaemon | undefined;
  try {
    const started = performance.now();
    daemon = await startDaemon(ctx.cli, dir, daemonConfigYaml(dir.paths, sink, pushes), ctx.options.daemonNodeArgs);
    progress(`idle: daemon ${daemon.pid} up; waiting for the first run of each job`);
    await waitForFirstRound(daemon, pushes);
    const firstRoundMs = performance.now() - started;
    // Nothing talks to the daemon during the window.
    await daemon.disconnect();
    const windowMs = ctx.options.idleSeconds * 1000;
    progress(`idle: first round done in ${(firstRoundMs / 1000).toFixed(1)} s; sampling daemon and bare node for ${ctx.options.idleSeconds} s`);
    const windowStart = performance.now();
    let reported = 0;
    const samples = await sampleUsage(
      { daemon: daemon.pid, baseline: baseline.pid },
      {
        windowMs,
        intervalMs: SAMPLE_EVERY_MS,
        onRound: (elapsed) => {
          if (elapsed - reported < 30_000) return;
          reported = elapsed;
          progress(`idle: ${Math.round(elapsed / 1000)} s of ${ctx.options.idleSeconds}`);
        },
      },
    );
    const windowEnd = performance.now();
    const peak = await readProcess(daemon.pid);

    const inWindow = (line: LogLine): boolean => line.seenAtMs >= windowStart && line.seenAtMs <= windowEnd;
    const logs = daemon.logs().filter(inWindow);
    const result: IdleResult = {
      jobs,
      interval,
      firstRoundMs,
      daemon: summarizeUsage(samples.daemon, ctx.ticksPerSecond),
      baseline: summarizeUsage(samples.baseline, ctx.ticksPerSecond),
      daemonPeakRssKiB: peak.peakRssKiB,
      daemonRssSeries: samples.daemon
        .filter((_, i) => i % SERIES_EVERY === 0)
        .map((sample) => ({ atSeconds: Math.round((sample.atMs - windowStart) / 1000), rssKiB: sample.rssKiB })),
      invocationsInWindow: logs.filter((line) => line.msg === 'invocation started').length,
      notOkInWindow: logs.filter((line) => line.msg === 'invocation failed' || line.msg === 'invocation interrupted').length,
      skippedTicksInWindow: logs.filter((line) => line.msg.startsWith('tick skipped')).length,
    };

    // Still right afterwards: every job ok, every dataset on the sink.
    const status = await daemon.status();
    for (const push of pushes) {
      const job = status.jobs.find((candidate) => candidate.name === push.name);
      if (job?.last?.outcome !== 'ok') throw new BenchSetupError(`idle: after the window, ${job ? invocationFailure(job) : `no job ${push.name}`}`);
    }
    for (const dataset of datasets) await assertReplica(dataset, sinkTargetOf(sink, dataset));
    return result;
  } finally {
    await daemon?.stop();
    await baseline.stop();
    await dir.remove();
  }
}

/** Polls until every push job has a last invocation that ended ok; a failed one ends the benchmark. */
async function waitForFirstRound(daemon: BenchDaemon, pushes: readonly PushSpec[], timeoutMs = 600_000): Promise<void> {
  const names = new Set(pushes.map((push) => push.name));
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const jobs = (await daemon.status()).jobs.filter((job) => names.has(job.name));
    const failed = jobs.find((job) => job.last !== undefined && job.last.outcome !== 'ok');
    if (failed !== undefined) throw new BenchSetupError(`idle: the first run failed: ${invocationFailure(failed)}`);
    if (jobs.length === names.size && jobs.every((job) => job.last?.outcome === 'ok' && job.current === undefined)) return;
    if (performance.now() > deadline) throw new BenchSetupError(`idle: the first runs did not end within ${timeoutMs} ms:\n${daemon.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function mountpointOf(ctx: DaemonBenchContext, dataset: string): string {
  const mount = ctx.source.mountpoint;
  if (mount === undefined) throw new BenchSetupError('the source pool must be mounted to write data');
  return path.join(mount, dataset.slice(ctx.source.name.length + 1));
}
