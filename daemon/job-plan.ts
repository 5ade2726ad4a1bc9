/**
 * Where a push or pull job's filesystems come from and go to: both endpoints as specs
 * (replication/endpoint/spec.ts) and one replication run per root of the job's filter.
 *
 * Paths (docs/configuration.md, "Where filesystems land"). The `path_mapping` that applies is
 * the sink's for a push over `local` (the push has none there), the job's own otherwise:
 *   - `nested` (zrepl's): filter root R lands at `<base>/R`, where the base is the sink's
 *     `root_fs/<client_identity>` (the sink receives client C's `pool/x` at `root_fs/C/pool/x`),
 *     or the job's `root_fs` (a pull, a push over ssh: `root_fs/pool/x`);
 *   - `one_to_one` (zferry, zrepl#253): the single filter root lands at `root_fs` itself, its
 *     children below it, as `zferry push -r R root_fs` does (no client component on a sink: a
 *     one_to_one sink takes one pushing client).
 * A sink served in-process is confined to where its client's filesystems land (as
 * `zferry serve --root` would be), and a local source to its filter's roots.
 */
import type { ConnectConfig, FilesystemFilterRule, PullJob, PushJob, ReplicationPolicy, SinkJob, SourceJob } from '../config/types.js';
import { DEFAULT_REMOTE_COMMAND, type EndpointSpec, type SshEndpointSpec } from '../replication/endpoint/spec.js';
import { JobDefinitionError } from './errors.js';
import { intersect, selectionOf, type Selection } from './selection.js';

/** A sink or source job of the same config, by its `serve.listener_name`. */
export type Listeners = ReadonlyMap<string, SinkJob | SourceJob>;

export interface RunPlan {
  /** The filter root: the run lists it (with its subtree when `recursive`). */
  source: string;
  target: string;
  recursive: boolean;
  selects: (filesystem: string) => boolean;
}

export interface ReplicationPlan {
  sender: EndpointSpec;
  receiver: EndpointSpec;
  /** A local sink's `root_fs`, which must exist before anything is received below it. */
  sinkRoot?: { sink: string; rootFs: string };
  runs: RunPlan[];
  policy: ReplicationPolicy;
}

export function listenersOf(jobs: ReadonlyArray<{ type: string }>): Map<string, SinkJob | SourceJob> {
  const listeners = new Map<string, SinkJob | SourceJob>();
  for (const job of jobs) {
    if (job.type === 'sink' || job.type === 'source') {
      const served = job as SinkJob | SourceJob;
      if (served.serve.type === 'local') listeners.set(served.serve.listenerName, served);
    }
  }
  return listeners;
}

export function planReplication(job: PushJob | PullJob, listeners: Listeners): ReplicationPlan {
  return job.type === 'push' ? planPush(job, listeners) : planPull(job, listeners);
}

function planPush(job: PushJob, listeners: Listeners): ReplicationPlan {
  const selection = selectionOf(job.filesystems);
  const firstRoot = selection.roots[0]?.root;
  if (firstRoot === undefined) throw new JobDefinitionError(job.name, 'its filesystems filter selects nothing');
  const sender: EndpointSpec = { kind: 'local', dataset: firstRoot };
  if (job.connect.type === 'local') {
    const sink = listenerOf(job, job.connect.listenerName, listeners, 'sink');
    const base = sink.pathMapping === 'one_to_one' ? sink.rootFs : `${sink.rootFs}/${job.connect.clientIdentity}`;
    return {
      sender,
      receiver: { kind: 'local', dataset: base, roots: [base] },
      sinkRoot: { sink: sink.name, rootFs: sink.rootFs },
      runs: runsOf(job, selection, base, sink.pathMapping),
      policy: job.replication,
    };
  }
  if (job.connect.type !== 'ssh') throw new JobDefinitionError(job.name, `connect type ${job.connect.type} is not served yet`);
  if (job.rootFs === undefined) throw new JobDefinitionError(job.name, 'a push over ssh needs root_fs: where its filesystems land on the remote');
  return { sender, receiver: sshSpec(job.connect, job.rootFs), runs: runsOf(job, selection, job.rootFs), policy: job.replication };
}

function planPull(job: PullJob, listeners: Listeners): ReplicationPlan {
  const receiver: EndpointSpec = { kind: 'local', dataset: job.rootFs };
  if (job.connect.type === 'local') {
    const source = listenerOf(job, job.connect.listenerName, listeners, 'source');
    const served = selectionOf(source.filesystems);
    // The source's own filter applies; the pull's, if it has one, narrows it.
    const selection = job.filesystems.length > 0 ? intersect(served, selectionOf(job.filesystems)) : served;
    const firstRoot = selection.roots[0]?.root;
    if (firstRoot === undefined) throw new JobDefinitionError(job.name, `source '${source.name}' serves nothing this job selects`);
    return {
      sender: { kind: 'local', dataset: firstRoot, roots: served.roots.map((r) => r.root) },
      receiver,
      runs: runsOf(job, selection, job.rootFs),
      policy: job.replication,
    };
  }
  if (job.connect.type !== 'ssh') throw new JobDefinitionError(job.name, `connect type ${job.connect.type} is not served yet`);
  const selection = selectionOf(job.filesystems);
  const firstRoot = selection.roots[0]?.root;
  if (firstRoot === undefined) throw new JobDefinitionError(job.name, 'a pull over ssh needs a filesystems filter: what to pull');
  return { sender: sshSpec(job.connect, firstRoot), receiver, runs: runsOf(job, selection, job.rootFs), policy: job.replication };
}

function runsOf(job: PushJob | PullJob, selection: Selection, base: string, pathMapping = job.pathMapping): RunPlan[] {
  if (selection.roots.some((root) => root.root === '')) {
    throw new JobDefinitionError(job.name, 'its filter selects every pool ("<"); name the pools to replicate (e.g. "tank<": true)');
  }
  if (pathMapping === 'one_to_one') {
    const [only, ...more] = selection.roots;
    if (only === undefined || more.length > 0) {
      throw new JobDefinitionError(
        job.name,
        `path_mapping one_to_one maps a single filesystem tree onto ${base}; the filter selects ${selection.roots.length} (${rootsText(job.filesystems)})`,
      );
    }
    return [{ source: only.root, target: base, recursive: only.recursive, selects: selection.selects }];
  }
  return selection.roots.map(({ root, recursive }) => ({ source: root, target: `${base}/${root}`, recursive, selects: selection.selects }));
}

function listenerOf<T extends 'sink' | 'source'>(
  job: PushJob | PullJob,
  name: string,
  listeners: Listeners,
  type: T,
): Extract<SinkJob | SourceJob, { type: T }> {
  const listener = listeners.get(name);
  if (listener === undefined) throw new JobDefinitionError(job.name, `no sink or source job serves listener_name '${name}'`);
  if (listener.type !== type)
    throw new JobDefinitionError(job.name, `listener '${name}' is served by ${listener.type} job '${listener.name}'; a ${job.type} needs a ${type}`);
  return listener as Extract<SinkJob | SourceJob, { type: T }>;
}

function sshSpec(connect: Extract<ConnectConfig, { type: 'ssh' }>, dataset: string): SshEndpointSpec {
  return {
    kind: 'ssh',
    host: connect.host,
    ...(connect.user !== undefined ? { user: connect.user } : {}),
    ...(connect.port !== undefined ? { port: connect.port } : {}),
    ...(connect.identityFile !== undefined ? { identityFile: connect.identityFile } : {}),
    options: connect.options,
    remoteCommand: connect.remoteCommand ?? DEFAULT_REMOTE_COMMAND,
    dataset,
  };
}

function rootsText(rules: readonly FilesystemFilterRule[]): string {
  return rules
    .filter((rule) => rule.include)
    .map((rule) => rule.pattern)
    .join(', ');
}
