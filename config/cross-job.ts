/**
 * Rules between the jobs of one file: unique names and listeners, local connects that reach
 * a job of the right kind, receiving roots that do not overlap, no job replicating its own
 * replicas. They read the parsed YAML, so they are checked even when other keys are wrong.
 */
import { hostPortProblem, isWildcardHost, parseHostPort } from './address.js';
import { filterRoots, selectFilesystem } from './filesystem-filter.js';
import { rawFilterRules } from './filter-rules-raw.js';
import { formatKeyPath, type KeyPath } from './key-path.js';
import { oneToOneProblem } from './job-rules.js';
import { datasetNameProblem, isAtOrBelow } from './names.js';
import type { PathProblem } from './problems.js';
import { hasKey, isRawMap, rawJobs, rawMap, rawString, type RawMap } from './raw.js';
import { closest } from './suggest.js';

interface Job {
  index: number;
  job: RawMap;
  type: string;
  name: string;
}

function jobsOf(root: unknown): Job[] {
  return rawJobs(root).map(({ index, job }) => ({ index, job, type: rawString(job, 'type') ?? '', name: rawString(job, 'name') ?? '' }));
}

function ref(job: Job): string {
  return `${job.type} job '${job.name}' (${formatKeyPath(['jobs', job.index])})`;
}

function validDataset(job: RawMap, key: string): string | undefined {
  const value = rawString(job, key);
  return value !== undefined && datasetNameProblem(value) === undefined ? value : undefined;
}

function duplicateNames(jobs: readonly Job[]): PathProblem[] {
  const first = new Map<string, Job>();
  const problems: PathProblem[] = [];
  for (const job of jobs) {
    if (job.name === '') continue;
    const earlier = first.get(job.name);
    if (earlier === undefined) first.set(job.name, job);
    else {
      problems.push({
        path: ['jobs', job.index, 'name'],
        anchor: 'value',
        message: `job name '${job.name}' is already used by ${formatKeyPath(['jobs', earlier.index])}: names must be unique (they tag the job's holds and cursors)`,
      });
    }
  }
  return problems;
}

function listenerName(job: Job): string | undefined {
  const serve = rawMap(job.job, 'serve');
  return rawString(serve, 'type') === 'local' ? rawString(serve, 'listener_name') : undefined;
}

function listenersOf(jobs: readonly Job[], problems: PathProblem[]): Map<string, Job> {
  const listeners = new Map<string, Job>();
  for (const job of jobs) {
    if (job.type !== 'sink' && job.type !== 'source') continue;
    const name = listenerName(job);
    if (name === undefined) continue;
    const earlier = listeners.get(name);
    if (earlier === undefined) listeners.set(name, job);
    else
      problems.push({
        path: ['jobs', job.index, 'serve', 'listener_name'],
        anchor: 'value',
        message: `listener '${name}' is already served by ${ref(earlier)}`,
      });
  }
  return listeners;
}

/** A sender whose filter selects the receiving root would replicate its own replicas, forever deeper. */
function selectsOwnReplicas(filesystems: unknown, receivingRoot: string): boolean {
  const rules = rawFilterRules(filesystems);
  if (rules === undefined) return false;
  return selectFilesystem(rules, receivingRoot).selected || filterRoots(rules).some((root) => root !== '' && isAtOrBelow(root, receivingRoot));
}

function localConnects(jobs: readonly Job[], listeners: ReadonlyMap<string, Job>): PathProblem[] {
  const problems: PathProblem[] = [];
  /** One-to-one sinks and the push job that lands at their root_fs. */
  const oneToOneClients = new Map<Job, Job>();
  for (const job of jobs) {
    if (job.type !== 'push' && job.type !== 'pull') continue;
    const connect = rawMap(job.job, 'connect');
    const name = rawString(connect, 'listener_name');
    if (rawString(connect, 'type') !== 'local' || name === undefined) continue;
    const at: KeyPath = ['jobs', job.index, 'connect', 'listener_name'];
    const wanted = job.type === 'push' ? 'sink' : 'source';
    const served = listeners.get(name);
    if (served === undefined) {
      const candidates = [...listeners].filter(([, other]) => other.type === wanted).map(([listener]) => listener);
      const suggestion = closest(name, candidates);
      const hint =
        suggestion !== undefined ? ` (did you mean '${suggestion}'?)` : candidates.length > 0 ? ` (${wanted} listeners here: ${candidates.join(', ')})` : '';
      problems.push({ path: at, anchor: 'value', message: `unknown listener '${name}': no ${wanted} job in this file serves it${hint}` });
      continue;
    }
    if (served.type !== wanted) {
      problems.push({ path: at, anchor: 'value', message: `listener '${name}' is served by ${ref(served)}; a ${job.type} job connects to a ${wanted}` });
      continue;
    }
    if (job.type === 'push') {
      const sinkRoot = validDataset(served.job, 'root_fs');
      if (sinkRoot !== undefined && selectsOwnReplicas(job.job.filesystems, sinkRoot)) {
        problems.push({
          path: ['jobs', job.index, 'filesystems'],
          anchor: 'key',
          message: `selects the root_fs '${sinkRoot}' of ${ref(served)}: the job would replicate its own replicas (exclude it with "${sinkRoot}<": false)`,
        });
      }
      if (served.job.path_mapping === 'one_to_one') {
        // The sink puts its client's tree at root_fs itself: one client, with one tree.
        const earlier = oneToOneClients.get(served);
        if (earlier !== undefined) {
          problems.push({ path: at, anchor: 'value', message: `${ref(served)} maps one_to_one: ${ref(earlier)} already lands at its root_fs` });
        } else oneToOneClients.set(served, job);
        const problem = oneToOneProblem(['jobs', job.index, 'filesystems'], job.job.filesystems, {
          lead: `${ref(served)} maps one_to_one, a single filesystem tree onto its root_fs`,
        });
        if (problem !== undefined) problems.push({ ...problem, anchor: 'key' });
      }
    } else {
      const pullRoot = validDataset(job.job, 'root_fs');
      const ownFilter = hasKey(job.job, 'filesystems');
      if (pullRoot !== undefined && selectsOwnReplicas(served.job.filesystems, pullRoot) && (!ownFilter || selectsOwnReplicas(job.job.filesystems, pullRoot))) {
        problems.push({
          path: ['jobs', job.index, 'root_fs'],
          anchor: 'value',
          message: `'${pullRoot}' is selected by the filesystems of ${ref(served)}: the job would replicate its own replicas`,
        });
      }
      if (!ownFilter && job.job.path_mapping === 'one_to_one') {
        const problem = oneToOneProblem(['jobs', job.index, 'path_mapping'], served.job.filesystems, { whose: `the filesystems of ${ref(served)}` });
        if (problem !== undefined) problems.push(problem);
      }
    }
  }
  return problems;
}

/** Two jobs receiving into the same tree on this host would fight over it. */
function overlappingRoots(jobs: readonly Job[]): PathProblem[] {
  const receivers = jobs.flatMap((job) => {
    const root = job.type === 'sink' || job.type === 'pull' ? validDataset(job.job, 'root_fs') : undefined;
    return root === undefined ? [] : [{ job, root }];
  });
  const problems: PathProblem[] = [];
  for (const [position, { job, root }] of receivers.entries()) {
    const earlier = receivers.slice(0, position).find((other) => isAtOrBelow(root, other.root) || isAtOrBelow(other.root, root));
    if (earlier === undefined) continue;
    problems.push({
      path: ['jobs', job.index, 'root_fs'],
      anchor: 'value',
      message: `root_fs '${root}' overlaps the root_fs '${earlier.root}' of ${ref(earlier.job)}: two jobs would receive into the same tree`,
    });
  }
  return problems;
}

function formerNames(job: Job): { path: KeyPath; name: string }[] {
  const value = job.job.renamed_from;
  const at: KeyPath = ['jobs', job.index, 'renamed_from'];
  if (typeof value === 'string') return [{ path: at, name: value }];
  if (!Array.isArray(value)) return [];
  return value.flatMap((name: unknown, index) => (typeof name === 'string' ? [{ path: [...at, index], name }] : []));
}

function renames(jobs: readonly Job[]): PathProblem[] {
  const current = new Map(jobs.filter((job) => job.name !== '').map((job) => [job.name, job]));
  const claimed = new Map<string, Job>();
  const problems: PathProblem[] = [];
  for (const job of jobs) {
    for (const { path, name } of formerNames(job)) {
      const holder = current.get(name);
      const claimer = claimed.get(name);
      if (name === job.name) problems.push({ path, anchor: 'value', message: `renamed_from lists the job's own name '${name}'` });
      else if (holder !== undefined) {
        problems.push({ path, anchor: 'value', message: `'${name}' is the name of ${ref(holder)}: renamed_from lists names no job has any more` });
      } else if (claimer !== undefined && claimer !== job) {
        problems.push({
          path,
          anchor: 'value',
          message: `'${name}' is already in the renamed_from of ${ref(claimer)}: two jobs cannot take over the same cursors`,
        });
      }
      if (claimer === undefined) claimed.set(name, job);
    }
  }
  return problems;
}

interface Listen {
  path: KeyPath;
  host: string;
  port: number;
  /** `sink job 'x' (jobs[0])`, `prometheus (global.monitoring[0])`. */
  owner: string;
}

/** Every socket the daemon listens on: tcp and tls serves, prometheus endpoints (well-formed ones). */
function listensOf(root: unknown, jobs: readonly Job[]): Listen[] {
  const listens: Listen[] = [];
  const add = (path: KeyPath, listen: unknown, owner: string) => {
    if (typeof listen === 'string' && hostPortProblem(listen, true) === undefined) listens.push({ path, owner, ...parseHostPort(listen) });
  };
  const monitoring = isRawMap(root) ? rawMap(root, 'global')?.monitoring : undefined;
  if (Array.isArray(monitoring)) {
    for (const [index, endpoint] of monitoring.entries()) {
      const at = ['global', 'monitoring', index];
      if (isRawMap(endpoint) && endpoint.type === 'prometheus') add([...at, 'listen'], endpoint.listen, `prometheus (${formatKeyPath(at)})`);
    }
  }
  for (const job of jobs) {
    const serve = rawMap(job.job, 'serve');
    const type = rawString(serve, 'type');
    if (type === 'tcp' || type === 'tls') add(['jobs', job.index, 'serve', 'listen'], serve?.listen, ref(job));
  }
  return listens;
}

/** Two listeners on one port collide when they name the same host or either listens on every address. */
function listenCollisions(root: unknown, jobs: readonly Job[]): PathProblem[] {
  const listens = listensOf(root, jobs);
  const problems: PathProblem[] = [];
  for (const [position, listen] of listens.entries()) {
    const earlier = listens
      .slice(0, position)
      .find(
        (other) =>
          other.port === listen.port && (isWildcardHost(other.host) || isWildcardHost(listen.host) || other.host.toLowerCase() === listen.host.toLowerCase()),
      );
    if (earlier === undefined) continue;
    problems.push({
      path: listen.path,
      anchor: 'value',
      message: `port ${listen.port} is already listened on by ${earlier.owner}: one socket per address and port`,
    });
  }
  return problems;
}

export function crossJobProblems(root: unknown): PathProblem[] {
  const jobs = jobsOf(root);
  const problems = duplicateNames(jobs);
  const listeners = listenersOf(jobs, problems);
  problems.push(...localConnects(jobs, listeners), ...overlappingRoots(jobs), ...renames(jobs), ...listenCollisions(root, jobs));
  return problems;
}
