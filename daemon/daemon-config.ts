/**
 * What the daemon checks of a config beyond what config/ validates: every push and pull job
 * can be planned (its listener exists and is of the right kind, its filter fits its path
 * mapping), and no job was silently renamed (job-names.ts). Each problem names the job's place
 * in the file, FILE:LINE:COLUMN, as the config's own errors do.
 */
import type { Config, JobConfig } from '../config/types.js';
import { ZferryError, errorMessage } from '../platform/errors.js';
import { listenersOf, planReplication } from './job-plan.js';
import { renameProblems, type RememberedJobs } from './job-names.js';
import { parseKeepRules } from '../replication/pruning/index.js';

export class DaemonConfigError extends ZferryError {
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[]) {
    super('CONFIG', [`${file}: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}`, ...problems].join('\n'));
    this.problems = problems;
  }
}

/** Throws DaemonConfigError naming every problem. */
export function checkDaemonConfig(config: Config, remembered: RememberedJobs, stateFile: string): void {
  const listeners = listenersOf(config.jobs);
  const problems: string[] = [];
  config.jobs.forEach((job, index) => {
    if (job.type !== 'push' && job.type !== 'pull') return;
    try {
      planReplication(job, listeners);
    } catch (error) {
      problems.push(`${where(job, index)}: ${errorMessage(error)}`);
    }
  });
  config.jobs.forEach((job, index) => {
    for (const problem of pruningProblems(job)) problems.push(`${where(job, index)}: ${problem}`);
  });
  const renamed = renameProblems(remembered, config.jobs, listeners, stateFile);
  for (const problem of renamed) {
    const index = config.jobs.findIndex((job) => job.name === problem.job);
    const job = config.jobs[index];
    problems.push(job !== undefined ? `${where(job, index)}: ${problem.message}` : problem.message);
  }
  if (problems.length > 0) throw new DaemonConfigError(config.file, problems);
}

function where(job: JobConfig, index: number): string {
  return `${job.position.file}:${job.position.line}:${job.position.column}: jobs[${index}]`;
}

/** Keep rules that do not read (a grid spec, a count, a regex): config/ checks only their type. */
function pruningProblems(job: JobConfig): string[] {
  if (!('pruning' in job) || job.pruning === undefined) return [];
  const lists: Array<[string, unknown[] | undefined]> = [
    ['pruning.keep_sender', job.pruning.keepSender],
    ['pruning.keep_receiver', job.pruning.keepReceiver],
    ['pruning.keep', job.pruning.keep],
  ];
  const problems: string[] = [];
  for (const [name, rules] of lists) {
    try {
      if (rules !== undefined) parseKeepRules(rules, name);
    } catch (error) {
      problems.push(errorMessage(error));
    }
  }
  return problems;
}
