/** CLI-level errors and the mapping of any error to an exit code. */

import { ZferryError, errorCode } from '../platform/errors.js';

/**
 * Exit codes: 0 everything replicated, 1 something failed, 2 usage or configuration error,
 * 130 interrupted by SIGINT and 143 by SIGTERM (128 + the signal's number, as a shell reports
 * a command killed by it).
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = { SIGINT: 130, SIGTERM: 143 } as const;

export type InterruptSignal = keyof typeof EXIT_INTERRUPTED;

export class UsageError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('USAGE', message, options);
  }
}

/** A job ran but at least one filesystem failed; its summary was already printed. */
export class JobFailedError extends ZferryError {
  constructor(message: string) {
    super('JOB_FAILED', message);
  }
}

/** A signal stopped the command; what finished and what did not was already printed. */
export class InterruptedError extends ZferryError {
  constructor(
    readonly signal: InterruptSignal,
    options?: { cause?: unknown },
  ) {
    super('INTERRUPTED', `interrupted by ${signal}`, options);
  }
}

const USAGE_CODES = new Set([
  'USAGE',
  'CONFIG',
  'INVALID_ARGUMENT',
  'ZFS_INVALID_NAME',
  'OVERLAPPING_TARGET',
  // `zferry signal` naming a job the daemon does not run, or waking a sink or source.
  'UNKNOWN_JOB',
  'JOB_NOT_TRIGGERABLE',
  'commander.unknownOption',
  'commander.missingArgument',
  'commander.invalidArgument',
  'commander.excessArguments',
  'commander.unknownCommand',
  'commander.missingMandatoryOptionValue',
  'commander.optionMissingArgument',
  'commander.conflictingOption',
]);

export function exitCodeFor(error: unknown): number {
  if (error instanceof InterruptedError) return EXIT_INTERRUPTED[error.signal];
  const code = errorCode(error);
  if (code !== undefined && USAGE_CODES.has(code)) return EXIT_USAGE;
  return EXIT_FAILED;
}
