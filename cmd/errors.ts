/** CLI-level errors and the mapping of any error to an exit code. */

import { ZferryError, errorCode } from '../platform/errors.js';

/** Exit codes: 0 everything replicated, 1 something failed, 2 usage or configuration error. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

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

const USAGE_CODES = new Set([
  'USAGE',
  'CONFIG',
  'INVALID_ARGUMENT',
  'ZFS_INVALID_NAME',
  'OVERLAPPING_TARGET',
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
  const code = errorCode(error);
  if (code !== undefined && USAGE_CODES.has(code)) return EXIT_USAGE;
  return EXIT_FAILED;
}
