/**
 * What every ZFS benchmark's entry point does the same way: parse its options (usage errors
 * exit 2, --help prints the usage), stop and clean up on SIGINT/SIGTERM (a second signal leaves
 * at once), always clean up at the end, and check that ZFS answers (sweeping the pools an
 * earlier killed run left) before creating its own.
 */
import os from 'node:os';
import { errorStack } from '../../platform/errors.js';
import { runCommand, stopLiveCommands } from './command.js';
import { BenchSetupError, BenchUsageError } from './errors.js';
import { progress } from './log.js';
import { sweepStalePools } from './pools.js';

export interface BenchMain<Options> {
  /** `bench:NAME`, in the failure line. */
  name: string;
  parse(argv: readonly string[]): Options | 'help';
  usage: string;
  /** What a signal stops, in words ("the daemon and commands"). */
  stops: string;
  cleanup(): Promise<void>;
  /** Runs before the signal handlers are installed (exit hooks that must come first). */
  prepare?(): void;
  run(options: Options): Promise<void>;
}

export function runBenchMain<Options>(bench: BenchMain<Options>): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n[bench] ${signal}: stopping ${bench.stops}, destroying pools\n`);
    stopLiveCommands();
    const code = signal === 'SIGINT' ? 130 : 143;
    // A second signal leaves at once; the exit hooks still clean up what they own.
    process.once(signal, () => process.exit(code));
    void bench.cleanup().finally(() => process.exit(code));
  };
  const main = async (): Promise<number> => {
    let options: Options | 'help';
    try {
      options = bench.parse(process.argv.slice(2));
    } catch (error) {
      if (error instanceof BenchUsageError) {
        process.stderr.write(`${error.message}\n`);
        return 2;
      }
      throw error;
    }
    if (options === 'help') {
      process.stdout.write(bench.usage);
      return 0;
    }
    bench.prepare?.();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await bench.run(options);
      return 0;
    } finally {
      await bench.cleanup();
    }
  };
  main().then(
    (code) => {
      process.exitCode = code;
    },
    async (error: unknown) => {
      process.stderr.write(`${bench.name} failed: ${errorStack(error)}\n`);
      await bench.cleanup();
      process.exitCode = 1;
    },
  );
}

/** Fails unless ZFS answers; sweeps pools of killed earlier runs; the pools open besides. */
export async function zfsReadyPools(): Promise<string[]> {
  const zpool = await runCommand(['zpool', 'list', '-H', '-o', 'name']).catch((error: unknown) => {
    throw new BenchSetupError('cannot run zpool: is zfs-fuse installed?', { cause: error });
  });
  if (zpool.exitCode !== 0) throw new BenchSetupError(`zpool list failed (${zpool.stderr.trim()}): start ZFS with scripts/start-zfs.sh`);
  const swept = await sweepStalePools();
  if (swept.length > 0) progress(`swept ${swept.length} pools left by an earlier killed run`);
  return (await runCommand(['zpool', 'list', '-H', '-o', 'name'])).stdout.split('\n').filter(Boolean);
}

/** The machine in one line: CPUs, load at start, other pools open. */
export function machineNote(otherPools: readonly string[], noise: string): string {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `machine: ${os.cpus().length} CPUs, load average at start ${load}, ${otherPools.length} other zfs pools open at start (${noise})`;
}
