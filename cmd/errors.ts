/** CLI-level errors and the mapping of any error to an exit code. */

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

export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** A job ran but at least one filesystem failed; its summary was already printed. */
export class JobFailedError extends Error {
  readonly code = 'JOB_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'JobFailedError';
  }
}

/** A signal stopped the command; what finished and what did not was already printed. */
export class InterruptedError extends Error {
  readonly code = 'INTERRUPTED';
  constructor(
    readonly signal: InterruptSignal,
    options?: { cause?: unknown },
  ) {
    super(`interrupted by ${signal}`, options);
    this.name = 'InterruptedError';
  }
}

const USAGE_CODES = new Set([
  'USAGE',
  'CONFIG',
  'INVALID_ARGUMENT',
  'ZFS_INVALID_NAME',
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
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && USAGE_CODES.has(code)) return EXIT_USAGE;
  return EXIT_FAILED;
}
