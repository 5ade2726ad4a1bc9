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
import { errorStack } from '../platform/errors.js';
import { runCommand, stopLiveCommands } from './replication/command.js';
import { BenchSetupError, BenchUsageError } from './replication/errors.js';
import { progress } from './replication/log.js';
import { createPool, destroyAllPools, sweepStalePools } from './replication/pools.js';
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

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\n[bench] ${signal}: stopping the daemon and commands, destroying pools\n`);
  stopLiveCommands();
  // A second signal leaves at once; the exit hooks still kill the daemon and destroy the pools.
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
  void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}

async function main(): Promise<number> {
  let options: DaemonBenchOptions | 'help';
  try {
    options = parseDaemonBenchOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof BenchUsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  // Before the pools' own exit hook: a daemon still running would keep them busy.
  installExitHook();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const ctx = await setUp(options);
    const results: DaemonBenchResults = {};
    if (!options.skipIdle) results.idle = await runIdle(ctx);
    if (!options.skipSteady) results.steady = await runSteady(ctx);
    const checks = checkLimits(results);
    process.stdout.write(renderDaemonReport(ctx.notes, results, checks));
    process.stdout.write(`${daemonJsonSummary(ctx.notes, results, checks)}\n`);
    return 0;
  } finally {
    await cleanup();
  }
}

async function setUp(options: DaemonBenchOptions): Promise<DaemonBenchContext> {
  const zpool = await runCommand(['zpool', 'list', '-H', '-o', 'name']).catch((error: unknown) => {
    throw new BenchSetupError('cannot run zpool: is zfs-fuse installed?', { cause: error });
  });
  if (zpool.exitCode !== 0) throw new BenchSetupError(`zpool list failed (${zpool.stderr.trim()}): start ZFS with scripts/start-zfs.sh`);
  const swept = await sweepStalePools();
  if (swept.length > 0) progress(`swept ${swept.length} pools left by an earlier killed run`);
  const version = await runCommand([process.execPath, ZFERRY_CLI, '--version']);
  if (version.exitCode !== 0) throw new BenchSetupError(`${ZFERRY_CLI} --version failed: run npm run build first (${version.stderr.trim()})`);

  const others = zpool.stdout.split('\n').filter(Boolean);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const notes = [
    `machine: ${os.cpus().length} CPUs, load average at start ${load}, ${others.length} other zfs pools open at start (other activity adds noise to wall times; CPU times are each process's own)`,
    `zferry ${(version.stdout || version.stderr).trim()}, node ${process.version}`,
    ...(options.daemonNodeArgs.length > 0 ? [`the daemon ran with node options ${options.daemonNodeArgs.join(' ')} (an experiment, not as installed)`] : []),
  ];
  progress(`creating two ${POOL_MIB} MiB pools in ${os.tmpdir()}`);
  const source = await createPool({ sizeMiB: POOL_MIB, mounted: true });
  const target = await createPool({ sizeMiB: POOL_MIB, mounted: false });
  return { options, source, target, cli: ZFERRY_CLI, ticksPerSecond: await clockTicksPerSecond(runCommand), notes };
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`bench:daemon failed: ${errorStack(error)}\n`);
    await cleanup();
    process.exitCode = 1;
  },
);
