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
 *
 * Over tcp or tls (and over ssh without `root_fs` for a push, without `filesystems` for a pull:
 * a stdinserver sink or source behind the forced command) the other daemon decides where the client lands: its sink serves one root
 * (`root_fs/<identity>`, or `root_fs` with its `path_mapping: one_to_one`), its source the roots
 * of its filter, and says so in the `session` call. Such a plan is `session`-bound: its runs are
 * resolved (resolveServedPlan) once the session answered; until then they name the served root
 * SERVED_ROOT. A push maps its filter below the served root by its own `path_mapping`; a pull
 * pulls what the source serves, narrowed by its own filter if it has one.
 */
import type { ConnectConfig, FilesystemFilterRule, PullJob, PushJob, ReplicationPolicy, SinkJob, SourceJob, TcpConnect, TlsConnect } from '../config/types.js';
import { isAtOrBelow } from '../replication/zfs/names.js';
import { DEFAULT_REMOTE_COMMAND, type EndpointSpec, type SshEndpointSpec, type TcpEndpointSpec, type TlsEndpointSpec } from '../replication/endpoint/spec.js';
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
  /**
   * The side served over tcp or tls whose `session` decides the runs: the plan's runs are
   * provisional (below SERVED_ROOT) until resolveServedPlan replaces them.
   */
  session?: 'receiver' | 'sender';
}

/** What a session-bound plan's runs name the served root as, until the session answered. */
export const SERVED_ROOT = '<served root>';

/** What the serving side answered to `session`. */
export interface SessionAnswer {
  identity?: string | undefined;
  roots: readonly string[];
  /** A sink's path mapping, which a push over tcp, tls or stdinserver follows (it has none of its own there). */
  pathMapping?: 'nested' | 'one_to_one' | undefined;
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
  if (job.connect.type === 'tcp' || job.connect.type === 'tls') {
    return {
      sender,
      receiver: socketSpec(job.connect, SERVED_ROOT),
      // Provisional, but checked now: a one_to_one mapping of several roots fails at config time.
      runs: runsOf(job, selection, SERVED_ROOT),
      policy: job.replication,
      session: 'receiver',
    };
  }
  if (job.rootFs === undefined) {
    // A stdinserver sink behind the forced command decides where they land (its session says).
    const receiver = sshSpec(job.connect, SERVED_ROOT);
    return { sender, receiver, runs: runsOf(job, selection, SERVED_ROOT), policy: job.replication, session: 'receiver' };
  }
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
  if (job.connect.type === 'tcp' || job.connect.type === 'tls') {
    const own = selectionOf(job.filesystems);
    return {
      sender: socketSpec(job.connect, own.roots[0]?.root ?? SERVED_ROOT),
      receiver,
      runs: job.filesystems.length > 0 ? runsOf(job, own, job.rootFs) : [],
      policy: job.replication,
      session: 'sender',
    };
  }
  const selection = selectionOf(job.filesystems);
  const firstRoot = selection.roots[0]?.root;
  // Without a filter, a stdinserver source behind the forced command says what it serves.
  if (firstRoot === undefined) return { sender: sshSpec(job.connect, SERVED_ROOT), receiver, runs: [], policy: job.replication, session: 'sender' };
  return { sender: sshSpec(job.connect, firstRoot), receiver, runs: runsOf(job, selection, job.rootFs), policy: job.replication };
}

/**
 * A session-bound plan with its runs resolved from what the serving side answered: a push's
 * filter mapped below the single root a sink serves; a pull's runs over the roots a source
 * serves (each narrowed by the pull's own filter, if it has one).
 */
export function resolveServedPlan(job: PushJob | PullJob, plan: ReplicationPlan, session: SessionAnswer): ReplicationPlan {
  if (plan.session === undefined) return plan;
  const { session: _bound, ...resolved } = plan;
  const who = session.identity !== undefined ? ` to identity '${session.identity}'` : '';
  if (job.type === 'push') {
    const [root, ...more] = session.roots;
    if (root === undefined || more.length > 0) {
      throw new JobDefinitionError(
        job.name,
        `the sink serves ${session.roots.length === 0 ? 'no root' : `${session.roots.length} roots (${session.roots.join(', ')})`}${who}: a push needs exactly one, where its filesystems land (is it a source?)`,
      );
    }
    const pathMapping = session.pathMapping ?? job.pathMapping;
    return { ...resolved, receiver: { ...plan.receiver, dataset: root }, runs: runsOf(job, selectionOf(job.filesystems), root, pathMapping) };
  }
  const selection = servedSelection(session.roots, job.filesystems.length > 0 ? selectionOf(job.filesystems) : undefined);
  const firstRoot = selection.roots[0]?.root;
  if (firstRoot === undefined) {
    throw new JobDefinitionError(job.name, `the source serves nothing this job selects${who} (it serves ${session.roots.join(', ') || 'no root'})`);
  }
  return { ...resolved, sender: { ...plan.sender, dataset: firstRoot }, runs: runsOf(job, selection, job.rootFs) };
}

/**
 * What a pull over tcp or tls replicates: the source's roots (whose own filter the source
 * enforces), narrowed by the pull's filter: each of the pull's roots inside a served one, and
 * each served root inside one of the pull's.
 */
function servedSelection(served: readonly string[], own: Selection | undefined): Selection {
  const within = (filesystem: string): boolean => served.some((root) => isAtOrBelow(filesystem, root));
  if (own === undefined) return { roots: served.map((root) => ({ root, recursive: true })), selects: within };
  const roots = [
    ...own.roots.filter(({ root }) => within(root)),
    ...served
      .filter((root) => own.roots.some((mine) => mine.recursive && root !== mine.root && isAtOrBelow(root, mine.root)))
      .map((root) => ({ root, recursive: true })),
  ];
  return { roots, selects: (filesystem) => within(filesystem) && own.selects(filesystem) };
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

function socketSpec(connect: TcpConnect | TlsConnect, dataset: string): TcpEndpointSpec | TlsEndpointSpec {
  if (connect.type === 'tcp') return { kind: 'tcp', host: connect.host, port: connect.port, dataset, dialTimeoutMs: connect.dialTimeoutMs };
  return {
    kind: 'tls',
    host: connect.host,
    port: connect.port,
    ca: connect.ca,
    cert: connect.cert,
    key: connect.key,
    serverName: connect.serverCn,
    dataset,
    dialTimeoutMs: connect.dialTimeoutMs,
    handshakeTimeoutMs: connect.handshakeTimeoutMs,
  };
}

function rootsText(rules: readonly FilesystemFilterRule[]): string {
  return rules
    .filter((rule) => rule.include)
    .map((rule) => rule.pattern)
    .join(', ');
}
