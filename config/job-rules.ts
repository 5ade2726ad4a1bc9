/**
 * Rules within one job that span several of its keys: one schedule, what a connect type
 * needs or forbids, one filter root for the 1:1 mapping. They read the parsed YAML, so they
 * are checked even when other keys of the job are wrong.
 */
import { longestAddress, parseClientNetwork } from './address.js';
import { filterRoots } from './filesystem-filter.js';
import { rawFilterRules } from './filter-rules-raw.js';
import type { KeyPath } from './key-path.js';
import { componentProblem } from './names.js';
import type { PathProblem } from './problems.js';
import { hasKey, isRawMap, rawJobs, rawMap, rawString, type RawMap } from './raw.js';

function scheduleProblems(where: KeyPath, job: RawMap, type: string): PathProblem[] {
  const problems: PathProblem[] = [];
  if (hasKey(job, 'interval') && hasKey(job, 'cron')) {
    problems.push({ path: [...where, 'cron'], anchor: 'key', message: "'cron' and 'interval' exclude each other: a job runs on one schedule (keep one)" });
  }
  if (hasKey(job, 'time_zone') && !hasKey(job, 'cron')) {
    problems.push({ path: [...where, 'time_zone'], anchor: 'key', message: "time_zone applies to a 'cron' schedule only" });
  }
  if (type === 'pull' && !hasKey(job, 'interval') && !hasKey(job, 'cron')) {
    problems.push({
      path: [...where, 'interval'],
      anchor: 'key',
      message: "missing 'interval' (a pull job needs a schedule: interval: 10m, interval: manual, or cron: '0 3 * * *')",
    });
  }
  return problems;
}

/** Connect types that reach a sink or source job of another daemon: that job decides where filesystems land and what is served. */
const REMOTE_JOB_CONNECTS = ['tcp', 'tls'];

function connectProblems(where: KeyPath, job: RawMap, type: string): PathProblem[] {
  const connectType = rawString(rawMap(job, 'connect'), 'type');
  const problems: PathProblem[] = [];
  if (type === 'push' && connectType !== undefined && REMOTE_JOB_CONNECTS.includes(connectType)) {
    for (const key of ['root_fs', 'path_mapping']) {
      if (hasKey(job, key)) {
        problems.push({
          path: [...where, key],
          anchor: 'key',
          message: `a push over ${connectType} takes no ${key}: the remote sink job's ${key} decides where the filesystems land (remove it here)`,
        });
      }
    }
  }
  if (type === 'push' && connectType === 'ssh' && !hasKey(job, 'root_fs')) {
    problems.push({
      path: [...where, 'root_fs'],
      anchor: 'key',
      message: "missing 'root_fs' (a push over ssh needs the dataset on the remote host its filesystems land below)",
    });
  }
  if (type === 'push' && connectType === 'local') {
    for (const key of ['root_fs', 'path_mapping']) {
      if (hasKey(job, key)) {
        problems.push({
          path: [...where, key],
          anchor: 'key',
          message: `a push over a local connect takes no ${key}: the sink job's ${key} decides where the filesystems land (remove it here)`,
        });
      }
    }
  }
  if (type === 'pull' && connectType === 'ssh' && !hasKey(job, 'filesystems')) {
    problems.push({
      path: [...where, 'filesystems'],
      anchor: 'key',
      message: "missing 'filesystems' (a pull over ssh must say which filesystems of the remote host it pulls)",
    });
  }
  return problems;
}

/** Who maps one_to_one and which filter is meant, for the words of oneToOneProblem. */
export interface OneToOneWords {
  /** Default: "one_to_one maps a single filesystem tree onto root_fs". */
  lead?: string;
  /** Default: "filesystems". */
  whose?: string;
}

/** The 1:1 mapping puts one tree at root_fs: a filter with several roots has no single place. */
export function oneToOneProblem(path: KeyPath, filesystems: unknown, words: OneToOneWords = {}): PathProblem | undefined {
  const rules = rawFilterRules(filesystems);
  if (rules === undefined) return undefined;
  const roots = filterRoots(rules);
  const lead = words.lead ?? 'one_to_one maps a single filesystem tree onto root_fs';
  const whose = words.whose ?? 'filesystems';
  if (roots.includes('')) return { path, anchor: 'value', message: `${lead}, but ${whose} selects every pool ("<"); use nested` };
  if (roots.length <= 1) return undefined;
  return {
    path,
    anchor: 'value',
    message: `${lead}, but ${whose} has ${roots.length} roots (${roots.join(', ')}); use nested, or one job per tree`,
  };
}

/** on_late hooks run when a filesystem falls behind `rpo`: without one they never would. */
function latenessProblems(where: KeyPath, job: RawMap): PathProblem[] {
  if (hasKey(job, 'rpo')) return [];
  const why = 'on_late needs rpo (the age after which a filesystem counts as late, e.g. rpo: 2h)';
  const problems: PathProblem[] = [];
  if (hasKey(job, 'on_late')) problems.push({ path: [...where, 'on_late'], anchor: 'key', message: why });
  const hooks = job.hooks;
  if (!Array.isArray(hooks)) return problems;
  for (const [index, hook] of hooks.entries()) {
    const when = isRawMap(hook) ? hook.when : undefined;
    if (when === 'on_late') problems.push({ path: [...where, 'hooks', index, 'when'], anchor: 'value', message: why });
    else if (Array.isArray(when) && when.includes('on_late'))
      problems.push({ path: [...where, 'hooks', index, 'when', when.indexOf('on_late')], anchor: 'value', message: why });
  }
  return problems;
}

/** Why `value` cannot be the identity of the clients `network` stands for, or undefined. */
export function clientIdentityProblem(network: string, value: string): string | undefined {
  const parsed = parseClientNetwork(network);
  if ('problem' in parsed) return undefined; // the schema refuses the key itself
  const stars = value.split('*').length - 1;
  if (stars === 0) return componentProblem(value, 'client identity');
  if (parsed.prefixLength === (parsed.family === 4 ? 32 : 128)) {
    return `client identity '${value}' has a '*', but ${network} is a single address (a '*' stands for the address of a client in a range)`;
  }
  if (stars > 1) return `client identity '${value}' has more than one '*'`;
  // The identity a client gets must still be one dataset component.
  const problem = componentProblem(value.replace('*', longestAddress(parsed.family)), 'client identity');
  return problem?.replace(/^client identity/, `client identity '${value}' (with '*' replaced by an address)`);
}

/** A tcp serve's `clients`: identities that are dataset components, each network once (however it is written). */
function tcpClientProblems(where: KeyPath, job: RawMap): PathProblem[] {
  const serve = rawMap(job, 'serve');
  const clients = rawMap(serve, 'clients');
  if (rawString(serve, 'type') !== 'tcp' || clients === undefined) return [];
  const at = [...where, 'serve', 'clients'];
  const problems: PathProblem[] = [];
  const networks = new Map<string, string>();
  for (const [network, value] of Object.entries(clients)) {
    const problem = typeof value === 'string' ? clientIdentityProblem(network, value) : undefined;
    if (problem !== undefined) problems.push({ path: [...at, network], anchor: 'value', message: problem });
    const parsed = parseClientNetwork(network);
    if ('problem' in parsed) continue;
    const normal = `${parsed.address}/${parsed.prefixLength}`;
    const earlier = networks.get(normal);
    if (earlier === undefined) networks.set(normal, network);
    else problems.push({ path: [...at, network], anchor: 'key', message: `${network} is the network ${normal}, already named by ${earlier}` });
  }
  return problems;
}

export function jobRuleProblems(root: unknown): PathProblem[] {
  const problems: PathProblem[] = [];
  for (const { index, job } of rawJobs(root)) {
    const where = ['jobs', index];
    const type = rawString(job, 'type') ?? '';
    if (type === 'push' || type === 'pull')
      problems.push(...scheduleProblems(where, job, type), ...connectProblems(where, job, type), ...latenessProblems(where, job));
    if (type === 'sink' || type === 'source') problems.push(...tcpClientProblems(where, job));
    if (job.path_mapping === 'one_to_one' && hasKey(job, 'filesystems')) {
      const problem = oneToOneProblem([...where, 'path_mapping'], job.filesystems);
      if (problem !== undefined) problems.push(problem);
    }
  }
  return problems;
}
