/**
 * Scenario 2, the scheduled steady state: the replication benchmark's tree (a root and 50
 * children), replicated to two targets on the same target pool by
 *   (a) `zferry push -r ROOT TARGET/oneshot`, one process per run, as cron would start it;
 *   (b) a running daemon's push job of the same tree (local connect to a sink of its config,
 *       `interval: 1h`, so after its run at start it runs only when woken over the control
 *       socket), i.e. what a tick of its schedule does.
 * Both start from the same replicated state (initial replication untimed). Each repetition
 * adds one snapshot (with fresh data) in all 51 filesystems, then runs both, in turns first.
 * Every target is checked by guid after every repetition.
 */

import { checkCommand } from '../replication/command.js';
import { rotate } from '../replication/context.js';
import { createTree, snapshotTree, type Tree } from '../replication/dataset-tree.js';
import { BenchSetupError } from '../replication/errors.js';
import { progress } from '../replication/log.js';
import { checkZferrySummary, zferryArgv } from '../replication/replicators.js';
import { assertReplica, zfs } from '../replication/zfs.js';
import { daemonConfigYaml, sinkTargetOf, type SinkSpec } from './config-yaml.js';
import type { DaemonBenchContext } from './context.js';
import { invocationFailure, makeDaemonDir, startDaemon, waitForJob, type BenchDaemon } from './daemon-process.js';
import { readProcess } from './proc.js';
import { setTimeout as sleep } from 'node:timers/promises';

const JOB = 'tree';
/** How often the end of a woken run is looked for (the wall time's resolution). */
const POLL_MS = 20;

export type SteadyContender = 'push' | 'daemon';

export interface SteadyRun {
  /** Process start to exit (push -r), or wakeup sent to the end seen in status (daemon). */
  wallMs: number;
  /**
   * The job runner's run (replication/job, the same code in both): --json durationMs (push -r), the
   * `replication run ended` log line's durationMs (daemon). From listing both sides to the last cursor.
   */
  runMs: number;
  /** The daemon's invocation, endedAt - startedAt in status: the run plus opening the sides, the sink check, closing. */
  invocationMs?: number;
  /** CPU time (user + system) of the process and its zfs commands during the run. */
  cpuMs: number | undefined;
}

export interface SteadyRep {
  order: SteadyContender[];
  push: SteadyRun;
  daemon: SteadyRun;
}

export interface SteadyResult {
  filesystems: number;
  snapshotsAtStart: number;
  reps: SteadyRep[];
  /** The daemon's peak RSS (VmHWM) at the end. */
  daemonPeakRssKiB: number;
}

export async function runSteady(ctx: DaemonBenchContext): Promise<SteadyResult> {
  const { options } = ctx;
  const tree = await createTree(ctx.source, ctx.target.dataset('oneshot'), options.tree);
  const sink: SinkSpec = { name: 'sink', rootFs: ctx.target.dataset('sink') };
  await zfs('create', sink.rootFs);
  const sinkTarget = sinkTargetOf(sink, tree.root);

  progress(`steady: initial replication with zferry push -r (untimed)`);
  await runPush(ctx, tree);
  await assertReplica(tree.root, tree.target);

  const dir = await makeDaemonDir();
  let daemon: BenchDaemon | undefined;
  try {
    const yaml = daemonConfigYaml(dir.paths, sink, [{ name: JOB, filesystems: { [`${tree.root}<`]: true }, interval: '1h' }]);
    daemon = await startDaemon(ctx.cli, dir, yaml, ctx.options.daemonNodeArgs);
    progress(`steady: daemon ${daemon.pid} up; initial replication by its run at start (untimed)`);
    const initial = await waitForJob(daemon, JOB, (job) => job.last !== undefined && job.current === undefined, 'done with its run at start');
    if (initial.last?.outcome !== 'ok') throw new BenchSetupError(`steady: the daemon's initial run failed: ${invocationFailure(initial)}`);
    await assertReplica(tree.root, sinkTarget);

    const reps: SteadyRep[] = [];
    for (let rep = 0; rep < options.reps; rep++) {
      const snapshot = `step${rep + 1}`;
      await snapshotTree(ctx.source, tree, snapshot, options.tree.treeFileKiB);
      const order = rotate<SteadyContender>(['push', 'daemon'], rep);
      const runs: Partial<Record<SteadyContender, SteadyRun>> = {};
      for (const contender of order) {
        runs[contender] = contender === 'push' ? await runPush(ctx, tree) : await runWokenJob(ctx, daemon);
      }
      await assertReplica(tree.root, tree.target);
      await assertReplica(tree.root, sinkTarget);
      const push = runs.push as SteadyRun;
      const woken = runs.daemon as SteadyRun;
      reps.push({ order, push, daemon: woken });
      progress(
        `steady rep ${rep + 1}/${options.reps} (@${snapshot}, ${order.join(' then ')}): push -r ${seconds(push.wallMs)} (run ${seconds(push.runMs)}), ` +
          `daemon ${seconds(woken.wallMs)} (run ${seconds(woken.runMs)}, invocation ${seconds(woken.invocationMs ?? Number.NaN)})`,
      );
    }
    const peak = await readProcess(daemon.pid);
    return { filesystems: tree.filesystems.length, snapshotsAtStart: tree.snapshots.length, reps, daemonPeakRssKiB: peak.peakRssKiB };
  } finally {
    await daemon?.stop();
    await dir.remove();
  }
}

/** One `zferry push -r --json` process (default --jobs 4, as the daemon's default concurrency). */
async function runPush(ctx: DaemonBenchContext, tree: Tree): Promise<SteadyRun> {
  const result = await checkCommand(zferryArgv({ source: tree.root, target: tree.target, recursive: true }, { cli: ctx.cli }), { cpu: true });
  const summary = checkZferrySummary(result.stdout);
  if (summary.durationMs === undefined) throw new BenchSetupError('zferry push --json printed no durationMs');
  return { wallMs: result.ms, runMs: summary.durationMs, cpuMs: result.cpuMs };
}

/**
 * `zferry signal wakeup` over the control socket, then status every POLL_MS until the job's last
 * invocation is a new one; it must have ended ok.
 */
async function runWokenJob(ctx: DaemonBenchContext, daemon: BenchDaemon): Promise<SteadyRun> {
  const before = await daemon.job(JOB);
  if (before.current !== undefined)
    throw new BenchSetupError(`steady: the daemon's job is already running (${before.current.trigger}); a wakeup would be ignored`);
  const cpuBefore = await readProcess(daemon.pid);
  const sent = performance.now();
  await daemon.wakeup(JOB);
  const job = await waitForJob(
    daemon,
    JOB,
    (view) => view.current === undefined && view.last !== undefined && view.last.startedAt !== before.last?.startedAt,
    'done with the woken run',
    {
      pollMs: POLL_MS,
    },
  );
  const wallMs = performance.now() - sent;
  const cpuAfter = await readProcess(daemon.pid);
  const last = job.last;
  if (last?.outcome !== 'ok' || last.endedAt === undefined) throw new BenchSetupError(`steady: the woken run did not end ok: ${invocationFailure(job)}`);
  if (last.trigger !== 'wakeup') throw new BenchSetupError(`steady: the run seen was started by ${last.trigger}, not by the wakeup`);
  const ticks = cpuAfter.cpu.own + cpuAfter.cpu.children - (cpuBefore.cpu.own + cpuBefore.cpu.children);
  return {
    wallMs,
    runMs: await runDurationLogged(daemon, sent),
    invocationMs: Date.parse(last.endedAt) - Date.parse(last.startedAt),
    cpuMs: (ticks * 1000) / ctx.ticksPerSecond,
  };
}

/** The durationMs of the job's `replication run ended` log line read after `since` (the line may still be in the pipe). */
async function runDurationLogged(daemon: BenchDaemon, since: number, timeoutMs = 5000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const line = daemon.logs().find((candidate) => candidate.seenAtMs >= since && candidate.job === JOB && candidate.msg === 'replication run ended');
    if (typeof line?.durationMs === 'number') return line.durationMs;
    if (performance.now() > deadline)
      throw new BenchSetupError(`steady: the daemon logged no 'replication run ended' line with a durationMs:\n${daemon.tail()}`);
    await sleep(20);
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
