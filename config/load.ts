/**
 * Reading the configuration: YAML with positions → zrepl keys zferry does not take → the
 * schema → rules within a job → rules between jobs → the typed Config. Every problem found on
 * the way is collected; any problem means ConfigError, with all of them, in file order.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errorCode, errorMessage } from '../platform/errors.js';
import { buildConfig } from './build.js';
import { crossJobProblems } from './cross-job.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { jobRuleProblems } from './job-rules.js';
import { formatKeyPath, isAtOrBelowPath } from './key-path.js';
import { configErrorMap } from './messages.js';
import { problemsFromIssues, withoutMisspeltMissing, type PathProblem } from './problems.js';
import { configSchema } from './schema.js';
import type { Config } from './types.js';
import { readYaml } from './yaml-source.js';
import { findZreplOnly } from './zrepl-compat.js';

export { ConfigError, type ConfigProblem } from './errors.js';

const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/** Reads and validates `file`; throws ConfigError (also when the file cannot be read). */
export async function loadConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    const reason = (code !== undefined ? READ_FAILURES[code] : undefined) ?? errorMessage(error);
    throw new ConfigError([{ file, line: 0, column: 0, path: '', message: `cannot read the configuration file: ${reason}` }], { cause: error });
  }
  return parseConfig(text, file);
}

function inFileOrder(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((problem) => {
      const key = `${problem.line}:${problem.column}:${problem.path}:${problem.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Validates the text of a configuration file named `file` (for messages); throws ConfigError. */
export function parseConfig(text: string, file: string): Config {
  const source = readYaml(text);
  if (source.syntaxProblems.length > 0) {
    throw new ConfigError(inFileOrder(source.syntaxProblems.map((problem) => ({ file, ...problem, path: '' }))));
  }
  if (source.value === undefined) {
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: "the file is empty: expected a map with 'jobs' (and optionally 'global')" }]);
  }
  const root = source.value;
  const zreplOnly = findZreplOnly(root);
  const parsed = configSchema.safeParse(root, { error: configErrorMap });
  const consequences = (problem: PathProblem) => zreplOnly.some((unsupported) => isAtOrBelowPath(problem.path, unsupported.suppress));
  const found = withoutMisspeltMissing([
    ...zreplOnly,
    ...[...(parsed.success ? [] : problemsFromIssues(parsed.error.issues)), ...jobRuleProblems(root), ...crossJobProblems(root)].filter(
      (problem) => !consequences(problem),
    ),
  ]);
  const problems = inFileOrder(
    found.map((problem) => ({ file, ...source.position(problem.path, problem.anchor), path: formatKeyPath(problem.path), message: problem.message })),
  );
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(problems.length > 0 ? problems : [{ file, line: 1, column: 1, path: '', message: 'not a valid configuration' }]);
  }
  const absolute = path.resolve(file);
  return buildConfig(parsed.data, absolute, (keyPath, anchor) => ({ file: absolute, ...source.position(keyPath, anchor) }));
}
