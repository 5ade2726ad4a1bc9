/**
 * Errors of the replication benchmark. Each names what failed; `cause` keeps the original.
 */

import type { CommandResult } from './command.js';

export class BenchUsageError extends Error {
  readonly code = 'BENCH_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'BenchUsageError';
  }
}

export class BenchSetupError extends Error {
  readonly code = 'BENCH_SETUP_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BenchSetupError';
  }
}

export class CommandFailedError extends Error {
  readonly code = 'BENCH_COMMAND_FAILED';
  constructor(
    readonly result: CommandResult,
    options?: { cause?: unknown },
  ) {
    const how = result.signal !== null ? `signal ${result.signal}` : `exit ${String(result.exitCode)}`;
    super(`${result.argv.join(' ')} failed (${how}): ${tail(result.stderr || result.stdout)}`, options);
    this.name = 'CommandFailedError';
  }
}

/** A tool reported success but the target does not hold what the source has. */
export class ReplicaMismatchError extends Error {
  readonly code = 'BENCH_REPLICA_MISMATCH';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReplicaMismatchError';
  }
}

/** The last lines of a long output: the part that says what went wrong. */
function tail(text: string, lines = 12): string {
  const all = text.trim().split('\n');
  return all.length <= lines ? all.join('\n') : `...\n${all.slice(-lines).join('\n')}`;
}
