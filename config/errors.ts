/** What is wrong with a configuration file: every problem, each with its place in the file. */
import { ZferryError } from '../platform/errors.js';

export interface ConfigProblem {
  /** The file as it was named (the --config argument). */
  file: string;
  /** 1-based; 0 when the problem concerns the file as a whole (it cannot be read). */
  line: number;
  /** 1-based; 0 with line 0. */
  column: number;
  /** The key path, `jobs[2].connect.host`; '' for the file as a whole or a YAML syntax error. */
  path: string;
  message: string;
}

/** `FILE:LINE:COLUMN: path: message`, as compilers write it (editors jump there). */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.column}` : problem.file;
  return `${where}: ${problem.path === '' ? '' : `${problem.path}: `}${problem.message}`;
}

function headline(problems: readonly ConfigProblem[]): string {
  const files = [...new Set(problems.map((problem) => problem.file))];
  return `${files.join(', ')}: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}`;
}

/**
 * The configuration is not usable. The message is a headline, then one line per problem; the
 * problems themselves are in `problems`, ordered by their place in the file.
 */
export class ConfigError extends ZferryError {
  declare readonly code: 'CONFIG';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super('CONFIG', [headline(problems), ...problems.map(formatProblem)].join('\n'), options);
    this.problems = problems;
  }
}
