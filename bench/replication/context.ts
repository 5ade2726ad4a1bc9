/**
 * What every scenario of the benchmark shares: the options, the two pools, the throwaway ssh
 * target, the results and the notes for the report. A contender that fails (a tool that
 * cannot run here) is noted with its error and left out of later measurements; a failing
 * baseline stops the benchmark, as no ratio means anything without it.
 */

import { errorMessage } from '../../platform/errors.js';
import type { BenchOptions } from './options.js';
import type { BenchPool } from './pools.js';
import type { Profile } from './profile.js';
import type { RemoteHost, Replicator } from './replicators.js';
import type { Results } from './results.js';
import { stoppingCommands } from './command.js';
import { CommandFailedError } from './errors.js';
import { progress } from './log.js';

export interface BenchContext {
  readonly options: BenchOptions;
  /** Mounted: sources are written through it. */
  readonly source: BenchPool;
  /** Unmounted (`mountpoint=none`): targets are never read, so never modified. */
  readonly target: BenchPool;
  /** The throwaway sshd, unless --skip-ssh. */
  readonly remote: RemoteHost | undefined;
  /** The same host as syncoid reaches it (see syncoid-remote.ts); set when remote is and syncoid runs. */
  readonly syncoidRemote: RemoteHost | undefined;
  /** Absolute path of dist/zferry.js, unless zferry is skipped or not working. */
  readonly zferryCli: string | undefined;
  readonly results: Results;
  /** Lines for the report: what was used, what failed and why. */
  readonly notes: string[];
  /** Failure scope (see attempt()) → the error that took it out. */
  readonly failed: Map<string, string>;
  /** The steady-state zfs-invocation profile, filled unless --skip-profile. */
  readonly profile: Profile;
}

export interface Contender {
  replicator: Replicator;
  /** The baseline of its group: its failure ends the benchmark. */
  baseline: boolean;
}

/**
 * Runs one measurement of a contender; returns undefined when it failed, now or before.
 * `scope` names what a failure rules out (e.g. `syncoid-ssh incremental`): later measurements
 * in the same scope are skipped, others still run.
 */
export async function attempt<T>(ctx: BenchContext, contender: Contender, scope: string, run: () => Promise<T>): Promise<T | undefined> {
  if (ctx.failed.has(scope)) return undefined;
  try {
    return await run();
  } catch (error) {
    if (contender.baseline || stoppingCommands()) throw error;
    const message = describeFailure(error);
    ctx.failed.set(scope, message);
    ctx.notes.push(`${contender.replicator.label} failed (${scope}), left out of it from then on: ${message}`);
    progress(`${contender.replicator.label} FAILED (${scope}): ${message}`);
    return undefined;
  }
}

/** A failed command is told by its exit and the end of its stderr (the argv is long). */
function describeFailure(error: unknown): string {
  if (error instanceof CommandFailedError) {
    const { result } = error;
    const how = result.signal !== null ? `signal ${result.signal}` : `exit ${String(result.exitCode)}`;
    const lines = (result.stderr || result.stdout)
      .trim()
      .split('\n')
      .slice(-4)
      .map((line) => line.trim());
    return `${how}: ${lines.join(' / ')}`;
  }
  return errorMessage(error);
}

/** The contenders in another order each repetition, so none always runs first (cold) or last. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
