/**
 * Job names are part of hold tags and cursor properties (zrepl#327): renaming a job would
 * silently start it afresh under the new tag and leave the old tag's holds behind for ever.
 * So the daemon remembers, in `<state_dir>/jobs.json`, what each job name replicated (a
 * fingerprint of its type, filter and destination). A job whose fingerprint matches a
 * remembered job of another name, gone from the config, is refused, unless it lists that
 * name in `renamed_from`: then its cursors are taken over (JobSpec.formerNames).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { JobConfig, PullJob, PushJob } from '../config/types.js';
import { errorCode, errorMessage } from '../platform/errors.js';
import { planReplication, type Listeners } from './job-plan.js';

export const JOB_NAMES_FILE = 'jobs.json';

export interface RememberedJob {
  type: string;
  fingerprint: string;
  /** This name was carried over to another (`renamed_from`): no longer a reason to refuse. */
  renamedTo?: string;
}

export type RememberedJobs = Record<string, RememberedJob>;

/** What a push or pull job replicates, as a hash; undefined for jobs that hold nothing (or cannot be planned). */
export function fingerprintOf(job: JobConfig, listeners: Listeners): string | undefined {
  if (job.type !== 'push' && job.type !== 'pull') return undefined;
  let described: unknown;
  try {
    described = describeReplication(job, listeners);
  } catch {
    return undefined;
  }
  return createHash('sha256').update(JSON.stringify(described)).digest('hex').slice(0, 24);
}

function describeReplication(job: PushJob | PullJob, listeners: Listeners): unknown {
  const plan = planReplication(job, listeners);
  const side = (spec: typeof plan.sender): string =>
    spec.kind === 'ssh'
      ? `ssh://${spec.user ?? ''}@${spec.host.toLowerCase()}:${spec.port ?? ''}`
      : spec.kind === 'tcp' || spec.kind === 'tls'
        ? `${spec.kind}://${spec.host.toLowerCase()}:${spec.port}`
        : spec.kind;
  return {
    type: job.type,
    filter: job.filesystems.map((rule) => `${rule.include ? '+' : '-'}${rule.pattern}`).sort(),
    sender: side(plan.sender),
    receiver: side(plan.receiver),
    runs: plan.runs.map((run) => `${run.source}>${run.target}`),
  };
}

/** Why each job of `jobs` may not run under its name (empty: all fine). */
export function renameProblems(
  remembered: RememberedJobs,
  jobs: readonly JobConfig[],
  listeners: Listeners,
  stateFile: string,
): Array<{ job: string; message: string }> {
  const names = new Set(jobs.map((job) => job.name));
  const problems: Array<{ job: string; message: string }> = [];
  for (const job of jobs) {
    if (remembered[job.name] !== undefined) continue;
    const fingerprint = fingerprintOf(job, listeners);
    if (fingerprint === undefined) continue;
    for (const [former, entry] of Object.entries(remembered)) {
      if (entry.fingerprint !== fingerprint || names.has(former) || entry.renamedTo !== undefined || job.renamedFrom.includes(former)) continue;
      problems.push({
        job: job.name,
        message:
          `job '${job.name}' replicates what job '${former}' did; its holds and cursors are tagged '${former}'. ` +
          `Add \`renamed_from: [${former}]\` to job '${job.name}' to take them over, or name the job '${former}' again ` +
          `(to start afresh instead, remove '${former}' from ${stateFile}; its holds then stay until released by hand).`,
      });
    }
  }
  return problems;
}

/** The record after `jobs` ran: every job's fingerprint, former names marked as carried over, removed jobs kept. */
export function rememberJobs(remembered: RememberedJobs, jobs: readonly JobConfig[], listeners: Listeners): RememberedJobs {
  const next: RememberedJobs = { ...remembered };
  for (const job of jobs) {
    const fingerprint = fingerprintOf(job, listeners);
    if (fingerprint === undefined) continue;
    next[job.name] = { type: job.type, fingerprint };
    for (const former of job.renamedFrom) {
      const entry = next[former];
      if (entry !== undefined && former !== job.name) next[former] = { ...entry, renamedTo: job.name };
    }
  }
  return next;
}

export class JobNameStore {
  readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, JOB_NAMES_FILE);
  }

  /** The record; empty when there is none yet. A damaged file is reported through `onProblem` and treated as empty. */
  async load(onProblem: (message: string) => void): Promise<RememberedJobs> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') onProblem(`cannot read ${this.file}: ${errorMessage(error)}`);
      return {};
    }
    try {
      const parsed = JSON.parse(text) as { jobs?: RememberedJobs };
      return parsed.jobs !== undefined && typeof parsed.jobs === 'object' ? parsed.jobs : {};
    } catch (error) {
      onProblem(`${this.file} is not valid JSON (${errorMessage(error)}); starting a new record`);
      return {};
    }
  }

  /** Replaces the record at once (a crash leaves the old or the new one, never half). */
  async save(jobs: RememberedJobs): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o755 });
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ version: 1, jobs }, null, 2)}\n`, { mode: 0o644 });
    await rename(temporary, this.file);
  }
}
