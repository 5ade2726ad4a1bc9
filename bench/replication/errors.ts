/**
 * Errors of the replication benchmark. Each names what failed; `cause` keeps the original.
 */

import { ZferryError } from '../../platform/errors.js';
import type { CommandResult } from './command.js';

export class BenchUsageError extends ZferryError {
  constructor(message: string) {
    super('BENCH_USAGE', message);
  }
}

export class BenchSetupError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BENCH_SETUP_FAILED', message, options);
  }
}

export class CommandFailedError extends ZferryError {
  constructor(
    readonly result: CommandResult,
    options?: { cause?: unknown },
  ) {
    const how = result.signal !== null ? `signal ${result.signal}` : `exit ${String(result.exitCode)}`;
    super('BENCH_COMMAND_FAILED', `${result.argv.join(' ')} failed (${how}): ${tail(result.stderr || result.stdout)}`, options);
  }
}

/** A tool reported success but the target does not hold what the source has. */
export class ReplicaMismatchError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BENCH_REPLICA_MISMATCH', message, options);
  }
}

/** The last lines of a long output: the part that says what went wrong. */
function tail(text: string, lines = 12): string {
  const all = text.trim().split('\n');
  return all.length <= lines ? all.join('\n') : `...\n${all.slice(-lines).join('\n')}`;
}
