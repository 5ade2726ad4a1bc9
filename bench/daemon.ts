/**
 * `npm run bench:daemon`: what `zferry daemon` costs, on throwaway pools, against baselines
 * measured in the same run (bench/daemon/*): idle (N jobs every minute, nothing to send: CPU and
 * RSS next to a bare node process) and the scheduled steady state of the 51-dataset tree (a
 * woken daemon job against `zferry push -r`). Prints a table (stdout), then a one-line JSON
 * summary; progress goes to stderr. Daemons, pools and temp dirs are removed on exit, failure
 * and Ctrl-C.
 */

import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runBenchMain, machineNote, zfsReadyPools } from './replication/bench-main.js';
import { runCommand } from './replication/command.js';
import { BenchSetupError } from './replication/errors.js';
import { progress } from './replication/log.js';
import { createPool, destroyAllPools } from './replication/pools.js';
import type { DaemonBenchContext } from './daemon/context.js';
import { removeDaemonDirs } from './daemon/daemon-process.js';
import { runIdle } from './daemon/idle.js';
import { parseDaemonBenchOptions, USAGE, type DaemonBenchOptions } from './daemon/options.js';
import { clockTicksPerSecond } from './daemon/proc.js';
import { installExitHook, stopAllProcesses } from './daemon/processes.js';
import { checkLimits, daemonJsonSummary, renderDaemonReport, type DaemonBenchResults } from './daemon/report.js';
import { runSteady } from './daemon/steady.js';

const ZFERRY_CLI = fileURLToPath(new URL('../zferry.js', import.meta.url));
const POOL_MIB = 512;

let cleaning: Promise<void> | undefined;

/** Daemons first (they keep the pools busy), then the pools, then the temp dirs. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAllProcesses();
    await destroyAllPools();
    await removeDaemonDirs();
  })();
  return cleaning;
}

/** The idle window, then the steady state; the table and the JSON line on stdout. */
async function measure(options: DaemonBenchOptions): Promise<void> {
  const ctx = await setUp(options);
  const results: DaemonBenchResults = {};
  if (!options.skipIdle) results.idle = await runIdle(ctx);
  if (!options.skipSteady) results.steady = await runSteady(ctx);
  const checks = checkLimits(results);
  process.stdout.write(renderDaemonReport(ctx.notes, results, checks));
  process.stdout.write(`${daemonJsonSummary(ctx.notes, results, checks)}\n`);
}

async function setUp(options: DaemonBenchOptions): Promise<DaemonBenchContext> {
  const others = await zfsReadyPools();
  const version = await runCommand([process.execPath, ZFERRY_CLI, '--version']);
  if (version.exitCode !== 0) throw new BenchSetupError(`${ZFERRY_CLI} --version failed: run npm run build first (${version.stderr.trim()})`);

  const notes = [
    machineNote(others, "other activity adds noise to wall times; CPU times are each process's own"),
    `zferry ${(version.stdout || version.stderr).trim()}, node ${process.version}`,
    ...(options.daemonNodeArgs.length > 0 ? [`the daemon ran with node options ${options.daemonNodeArgs.join(' ')} (an experiment, not as installed)`] : []),
  ];
  progress(`creating two ${POOL_MIB} MiB pools in ${os.tmpdir()}`);
  const source = await createPool({ sizeMiB: POOL_MIB, mounted: true });
  const target = await createPool({ sizeMiB: POOL_MIB, mounted: false });
  return { options, source, target, cli: ZFERRY_CLI, ticksPerSecond: await clockTicksPerSecond(runCommand), notes };
}

runBenchMain({
  name: 'bench:daemon',
  parse: parseDaemonBenchOptions,
  usage: USAGE,
  stops: 'the daemon and commands',
  cleanup,
  // Before the pools' own exit hook: a daemon still running would keep them busy.
  prepare: installExitHook,
  run: measure,
});
