/**
 * What the daemon benchmark's scenarios share: the options, two throwaway pools (a mounted
 * source, an unmounted target), the CLI that is measured, /proc's clock and the report's notes.
 */

import type { BenchPool } from '../replication/pools.js';
import type { DaemonBenchOptions } from './options.js';

export interface DaemonBenchContext {
  readonly options: DaemonBenchOptions;
  /** Mounted: data is written through it. */
  readonly source: BenchPool;
  /** Unmounted (`mountpoint=none`): targets are never read, so never modified. */
  readonly target: BenchPool;
  /** Absolute path of dist/zferry.js: the daemon and `zferry push` as installed. */
  readonly cli: string;
  /** Clock ticks per second of /proc/<pid>/stat times. */
  readonly ticksPerSecond: number;
  /** Lines for the report: the machine, what was noticed. */
  readonly notes: string[];
}
