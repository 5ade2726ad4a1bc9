/**
 * The one shape of zferry's errors. Every error class extends ZferryError, so each carries a
 * stable `code` (what programs, exit codes and the wire branch on), a `message` for people, its
 * class name as `name`, and the error it wraps as `cause`, all set here and nowhere else.
 * A family with a closed set of codes narrows the type with `declare readonly code: Codes`
 * (`declare`: the base class sets it; a plain field would reset it).
 */

export interface ZferryErrorOptions {
  cause?: unknown;
}

export class ZferryError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ZferryErrorOptions) {
    // No cause, no `cause` property: logs and assertions then see the error as it was built.
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** The message of anything thrown (a value that is not an Error, as a string). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What a crash report prints: an Error's stack (its message when it has none), or the value as a string. */
export function errorStack(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** The `code` property of anything thrown, when it is a string: ours, or Node's (`ENOENT`, ...). */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
