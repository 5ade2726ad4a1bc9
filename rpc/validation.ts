/** Running a contract's validators and saying which field was wrong. */
import { errorMessage } from './errors.js';
import type { Validator } from './contract.js';

interface Issue {
  path?: readonly PropertyKey[];
  message?: string;
}

/** `what.field.sub: message; ...` from a zod-like error (anything with `issues`), else its message. */
export function describeValidationError(error: unknown, what: string): string {
  const issues = typeof error === 'object' && error !== null ? (error as { issues?: unknown }).issues : undefined;
  if (Array.isArray(issues) && issues.length > 0) {
    const described = (issues as Issue[]).slice(0, 10).map((issue) => {
      const path = Array.isArray(issue.path) ? issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('') : '';
      return `${what}${path}: ${issue.message ?? 'invalid'}`;
    });
    if (issues.length > 10) described.push(`… ${issues.length - 10} more`);
    return described.join('; ');
  }
  return `${what}: ${errorMessage(error)}`;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; message: string; error: unknown };

export function validate<T>(validator: Validator<T>, input: unknown, what: string): ValidationResult<T> {
  try {
    return { ok: true, value: validator.parse(input) };
  } catch (error) {
    return { ok: false, message: describeValidationError(error, what), error };
  }
}
