/**
 * Command-line options of `npm run bench:daemon`.
 */

import { parseArgs } from 'node:util';
import { errorMessage } from '../../platform/errors.js';
import { BenchUsageError } from '../replication/errors.js';
import type { TreeSizes } from '../replication/dataset-tree.js';

export interface DaemonBenchOptions {
  /** The idle measurement's window, after the first round of runs. */
  idleSeconds: number;
  /** Push jobs of the idle daemon (one dataset each, every minute). */
  idleJobs: number;
  /** Steady-state repetitions (one new snapshot each); the median counts. */
  reps: number;
  skipIdle: boolean;
  skipSteady: boolean;
  /** node options for the daemon process, for experiments (e.g. a V8 flag: it wins over zferry's). */
  daemonNodeArgs: string[];
  tree: TreeSizes;
}

/** The replication benchmark's tree: a root and 50 children, 6 snapshots of 64 KiB each. */
const TREE: TreeSizes = { treeDatasets: 50, treeSnapshots: 6, treeFileKiB: 64 };

export const DEFAULTS = { idleSeconds: 150, idleJobs: 10, reps: 5 } as const;

export const USAGE = `usage: npm run bench:daemon -- [options]

Measures \`zferry daemon\` on throwaway pools:
  - idle: ${DEFAULTS.idleJobs} push jobs every minute (one dataset each, nothing new to send) and a sink;
    once their first runs are done, the daemon's CPU (% of one core) and RSS over a window,
    next to a bare node process (setInterval) measured in the same window;
  - steady state: a tree of ${TREE.treeDatasets + 1} datasets gets one new snapshot in each, then
    \`zferry push -r\` (one-shot) and a daemon push job woken over the control socket each
    replicate it (in turns); ratio daemon / push -r of the medians.

  --idle-seconds N   the idle window (default ${DEFAULTS.idleSeconds}: two rounds of ticks)
  --reps N           steady-state repetitions (default ${DEFAULTS.reps}); the median counts
  --skip-idle        no idle measurement
  --skip-steady      no steady-state measurement
  --node-arg ARG     a node option for the daemon process (repeatable), for experiments,
                     e.g. --node-arg=--incremental-marking (zferry's own V8 flags yield to it)
  -h, --help         this text
`;

export function parseDaemonBenchOptions(argv: readonly string[]): DaemonBenchOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'idle-seconds': { type: 'string' },
        reps: { type: 'string' },
        'skip-idle': { type: 'boolean', default: false },
        'skip-steady': { type: 'boolean', default: false },
        'node-arg': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new BenchUsageError(`${errorMessage(error)}\n\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  return {
    idleSeconds: integer('--idle-seconds', values['idle-seconds'], DEFAULTS.idleSeconds, 5, 3600),
    idleJobs: DEFAULTS.idleJobs,
    reps: integer('--reps', values.reps, DEFAULTS.reps, 1, 50),
    skipIdle: values['skip-idle'],
    skipSteady: values['skip-steady'],
    daemonNodeArgs: values['node-arg'] ?? [],
    tree: TREE,
  };
}

function integer(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new BenchUsageError(`${flag} must be an integer from ${min} to ${max}, not ${text}`);
  return value;
}
