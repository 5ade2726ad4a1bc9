/** `--rounds N --size-mib N`: the options of the benchmarks that push one snapshot N times each way. */
import { BenchUsageError } from './errors.js';

export interface RoundsOptions {
  rounds: number;
  sizeMiB: number;
}

export function roundsUsage(script: string, what: string, defaults: RoundsOptions): string {
  return `usage: npm run ${script} -- [--rounds N] [--size-mib N]

  --rounds N     ${what} of each kind, the order rotating each round (default ${defaults.rounds})
  --size-mib N   the snapshot's size (default ${defaults.sizeMiB})
`;
}

/** The options, 'help' for --help, or BenchUsageError naming what is wrong with `usage`. */
export function parseRoundsOptions(argv: readonly string[], defaults: RoundsOptions, usage: string): RoundsOptions | 'help' {
  const options = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    const value = Number(argv[i + 1]);
    if (arg === '--rounds' || arg === '--size-mib') {
      if (!Number.isInteger(value) || value < 1) throw new BenchUsageError(`${arg} needs a positive integer\n${usage}`);
      if (arg === '--rounds') options.rounds = value;
      else options.sizeMiB = value;
      i++;
      continue;
    }
    throw new BenchUsageError(`unknown argument ${String(arg)}\n${usage}`);
  }
  return options;
}
