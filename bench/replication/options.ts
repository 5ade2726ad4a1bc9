/**
 * Command-line options of `npm run bench:replication` and the sizes they select.
 */

import { parseArgs } from 'node:util';
import { errorMessage } from '../../platform/errors.js';
import { BenchUsageError } from './errors.js';

export interface BenchSizes {
  /** The single dataset's full snapshot, random data. */
  fullMiB: number;
  /** How many incremental snapshots follow it, and how much each one rewrites. */
  incrementals: number;
  incrementalMiB: number;
  /** Child datasets of the tree (plus its root), snapshots each, data per snapshot. */
  treeDatasets: number;
  treeSnapshots: number;
  treeFileKiB: number;
  /** Size of each of the two pools' vdev files. */
  poolMiB: number;
}

export interface BenchOptions {
  quick: boolean;
  repeat: number;
  skipSsh: boolean;
  skipSyncoid: boolean;
  skipZferry: boolean;
  skipSingle: boolean;
  skipTree: boolean;
  skipProfile: boolean;
  sizes: BenchSizes;
}

const FULL_SIZES: BenchSizes = {
  fullMiB: 1024,
  incrementals: 3,
  incrementalMiB: 100,
  treeDatasets: 50,
  treeSnapshots: 6,
  treeFileKiB: 64,
  poolMiB: 2560,
};

const QUICK_SIZES: BenchSizes = {
  fullMiB: 256,
  incrementals: 3,
  incrementalMiB: 25,
  treeDatasets: 10,
  treeSnapshots: 6,
  treeFileKiB: 64,
  poolMiB: 768,
};

export const USAGE = `usage: npm run bench:replication -- [options]

Replicates a single dataset (a full, then incrementals) and a tree of small datasets with
zferry, bare \`zfs send | zfs recv -u\` pipelines and syncoid, on throwaway pools, and prints
each figure as a ratio to the baseline measured in the same run.

  --quick            small sizes (${QUICK_SIZES.fullMiB} MiB, ${QUICK_SIZES.treeDatasets} datasets), one repetition
  --repeat N         repetitions of every measurement (default 3, --quick 1); the median counts
  --skip-ssh         no replication over ssh
  --skip-syncoid     no syncoid
  --skip-zferry      only the baselines (and syncoid)
  --skip-single      no single-dataset measurements
  --skip-tree        no dataset-tree measurements
  --skip-profile     no zfs-invocation profile of the steady state
  -h, --help         this text
`;

export function parseBenchOptions(argv: readonly string[]): BenchOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean', default: false },
        repeat: { type: 'string' },
        'skip-ssh': { type: 'boolean', default: false },
        'skip-syncoid': { type: 'boolean', default: false },
        'skip-zferry': { type: 'boolean', default: false },
        'skip-single': { type: 'boolean', default: false },
        'skip-tree': { type: 'boolean', default: false },
        'skip-profile': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new BenchUsageError(`${errorMessage(error)}\n\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const quick = values.quick;
  const repeat = values.repeat === undefined ? (quick ? 1 : 3) : Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20)
    throw new BenchUsageError(`--repeat must be an integer from 1 to 20, not ${String(values.repeat)}`);
  return {
    quick,
    repeat,
    skipSsh: values['skip-ssh'],
    skipSyncoid: values['skip-syncoid'],
    skipZferry: values['skip-zferry'],
    skipSingle: values['skip-single'],
    skipTree: values['skip-tree'],
    skipProfile: values['skip-profile'],
    sizes: quick ? QUICK_SIZES : FULL_SIZES,
  };
}
