/**
 * The validated file (snake_case, as zod parsed it) turned into the typed configuration the
 * daemon uses (config/types.ts): camelCase, durations in milliseconds, filters as rules with
 * their place in the file, schedules resolved. Runs only on a file without problems.
 */
import { parseDuration } from './duration.js';
import { parseFilterKey } from './filesystem-filter.js';
import type { KeyPath } from './key-path.js';
import { HOOK_TYPES, type ParsedConfig, type ParsedJob } from './schema.js';
import { DEFAULT_STDINSERVER_SOCKDIR } from './types.js';
import type {
  Config,
  ConnectConfig,
  FilesystemFilterRule,
  HookConfig,
  HookType,
  JobConfig,
  LoggingOutlet,
  PruningConfig,
  ReplicationPolicy,
  Schedule,
  SendOptions,
  SnapshottingConfig,
  SourcePosition,
} from './types.js';
import type { Anchor } from './yaml-source.js';

export type PositionOf = (path: KeyPath, anchor: Anchor) => SourcePosition;

type Parsed<T extends ParsedJob['type']> = Extract<ParsedJob, { type: T }>;

/** Words of a command line; single and double quotes group (ssh quotes each word again for the remote shell). */
export function splitCommandWords(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? match[3] ?? '');
}

function filters(filesystems: Record<string, boolean> | undefined, at: KeyPath, position: PositionOf): FilesystemFilterRule[] {
  return Object.entries(filesystems ?? {}).map(([pattern, include]) => {
    const parsed = parseFilterKey(pattern);
    // Cannot happen: the schema refused every key parseFilterKey refuses, and build runs after it.
    if ('problem' in parsed) throw new Error(`unchecked filter key ${pattern}: ${parsed.problem}`);
    return { ...parsed, include, pattern, position: position([...at, 'filesystems', pattern], 'key') };
  });
}

function sendOptions(send: Parsed<'push'>['send']): SendOptions {
  return { raw: send.raw, compressed: send.compressed, largeBlocks: send.large_blocks, embeddedData: send.embedded_data };
}

function policy(job: Parsed<'push'> | Parsed<'pull'>): ReplicationPolicy {
  const concurrency = job.replication.concurrency;
  return {
    send: sendOptions(job.send),
    initialReplication: job.conflict_resolution.initial_replication,
    onDiverged: job.on_diverged,
    batch: job.batch,
    snapshots: { include: job.snapshots.include, exclude: job.snapshots.exclude },
    concurrency: typeof concurrency === 'number' ? concurrency : concurrency.steps,
    bandwidthLimit: {},
  };
}

type ParsedHooks = NonNullable<Parsed<'push'>['hooks']>;

/** `at`: where the hooks list is (jobs[i].hooks or jobs[i].snapshotting.hooks). */
function hooks(value: ParsedHooks | undefined, place: keyof typeof HOOK_TYPES, at: KeyPath, position: PositionOf): { hooks?: HookConfig[] } {
  if (value === undefined) return {};
  return {
    hooks: value.map((hook, index) => {
      const where = [...at, index];
      const when: HookType[] = hook.when === undefined ? [...HOOK_TYPES[place]] : typeof hook.when === 'string' ? [hook.when] : [...new Set(hook.when)];
      return {
        type: hook.type,
        path: hook.path,
        args: hook.args,
        timeoutMs: parseDuration(hook.timeout),
        errIsFatal: hook.err_is_fatal,
        ...(hook.filesystems === undefined ? {} : { filesystems: filters(hook.filesystems, where, position) }),
        when,
        position: position(where, 'value'),
      };
    }),
  };
}

function snapshotting(value: Parsed<'snap'>['snapshotting'] | undefined, at: KeyPath, position: PositionOf): SnapshottingConfig {
  const withHooks = (list: ParsedHooks | undefined) => hooks(list, 'snapshotting', [...at, 'snapshotting', 'hooks'], position);
  switch (value?.type) {
    case undefined:
    case 'manual':
      return { type: 'manual' };
    case 'periodic':
      return {
        type: 'periodic',
        prefix: value.prefix,
        intervalMs: parseDuration(value.interval),
        timestampFormat: value.timestamp_format,
        ...location(value.timestamp_location),
        ...withHooks(value.hooks),
      };
    case 'cron':
      return {
        type: 'cron',
        prefix: value.prefix,
        cron: value.cron,
        timestampFormat: value.timestamp_format,
        ...(value.time_zone === undefined ? {} : { timeZone: value.time_zone }),
        ...location(value.timestamp_location),
        ...withHooks(value.hooks),
      };
  }
}

/** UTC is the default: left out, so configs written without the key compare equal. */
function location(value: string | undefined): { timestampLocation?: string } {
  return value === undefined || value === 'UTC' ? {} : { timestampLocation: value };
}

/**
 * `interval` or `cron` when the job has one. A push without either replicates after each
 * snapshot, as zrepl's push does: on its snapshotting's schedule (manual when none).
 */
function schedule(job: Parsed<'push'> | Parsed<'pull'>, snapshots: SnapshottingConfig): Schedule {
  if (job.cron !== undefined) return { kind: 'cron', expression: job.cron, ...(job.time_zone === undefined ? {} : { timeZone: job.time_zone }) };
  if (job.interval === 'manual') return { kind: 'manual' };
  if (job.interval !== undefined) return { kind: 'interval', everyMs: parseDuration(job.interval) };
  switch (snapshots.type) {
    case 'periodic':
      return { kind: 'interval', everyMs: snapshots.intervalMs };
    case 'cron':
      return { kind: 'cron', expression: snapshots.cron, ...(snapshots.timeZone === undefined ? {} : { timeZone: snapshots.timeZone }) };
    case 'manual':
      return { kind: 'manual' };
  }
}

function pruning(
  value: { keep_sender?: unknown[] | undefined; keep_receiver?: unknown[] | undefined; keep?: unknown[] | undefined } | undefined,
): PruningConfig | undefined {
  if (value === undefined) return undefined;
  return {
    ...(value.keep_sender === undefined ? {} : { keepSender: value.keep_sender }),
    ...(value.keep_receiver === undefined ? {} : { keepReceiver: value.keep_receiver }),
    ...(value.keep === undefined ? {} : { keep: value.keep }),
  };
}

function connect(value: Parsed<'push'>['connect']): ConnectConfig {
  if (value.type === 'local') return { type: 'local', listenerName: value.listener_name, clientIdentity: value.client_identity };
  const command = value.remote_command;
  return {
    type: 'ssh',
    host: value.host,
    options: value.options,
    ...(value.user === undefined ? {} : { user: value.user }),
    ...(value.port === undefined ? {} : { port: value.port }),
    ...(value.identity_file === undefined ? {} : { identityFile: value.identity_file }),
    ...(command === undefined ? {} : { remoteCommand: typeof command === 'string' ? splitCommandWords(command) : command }),
  };
}

function job(parsed: ParsedJob, index: number, position: PositionOf): JobConfig {
  const at: KeyPath = ['jobs', index];
  const renamed = parsed.renamed_from;
  const base = {
    name: parsed.name,
    position: position(at, 'value'),
    renamedFrom: renamed === undefined ? [] : typeof renamed === 'string' ? [renamed] : renamed,
  };
  const withPruning = (value: PruningConfig | undefined) => (value === undefined ? {} : { pruning: value });
  switch (parsed.type) {
    case 'push': {
      const snapshots = snapshotting(parsed.snapshotting, at, position);
      return {
        ...base,
        type: 'push',
        connect: connect(parsed.connect),
        filesystems: filters(parsed.filesystems, at, position),
        ...(parsed.root_fs === undefined ? {} : { rootFs: parsed.root_fs }),
        pathMapping: parsed.path_mapping,
        schedule: schedule(parsed, snapshots),
        snapshotting: snapshots,
        ...withPruning(pruning(parsed.pruning)),
        replication: policy(parsed),
        ...hooks(parsed.hooks, 'job', [...at, 'hooks'], position),
      };
    }
    case 'pull':
      return {
        ...base,
        type: 'pull',
        connect: connect(parsed.connect),
        rootFs: parsed.root_fs,
        filesystems: filters(parsed.filesystems, at, position),
        pathMapping: parsed.path_mapping,
        schedule: schedule(parsed, { type: 'manual' }),
        ...withPruning(pruning(parsed.pruning)),
        replication: policy(parsed),
        ...hooks(parsed.hooks, 'job', [...at, 'hooks'], position),
      };
    case 'sink':
      return {
        ...base,
        type: 'sink',
        serve: { type: 'local', listenerName: parsed.serve.listener_name },
        rootFs: parsed.root_fs,
        pathMapping: parsed.path_mapping,
      };
    case 'source':
      return {
        ...base,
        type: 'source',
        serve: { type: 'local', listenerName: parsed.serve.listener_name },
        filesystems: filters(parsed.filesystems, at, position),
        snapshotting: snapshotting(parsed.snapshotting, at, position),
        send: sendOptions(parsed.send),
        ...withPruning(pruning(parsed.pruning)),
      };
    case 'snap':
      return {
        ...base,
        type: 'snap',
        filesystems: filters(parsed.filesystems, at, position),
        snapshotting: snapshotting(parsed.snapshotting, at, position),
        ...withPruning(pruning(parsed.pruning)),
      };
  }
}

function outlet(value: ParsedConfig['global']['logging'][number]): LoggingOutlet {
  return value.type === 'stdout'
    ? { type: 'stdout', level: value.level, format: value.format }
    : { type: 'file', level: value.level, format: value.format, path: value.path };
}

/** `:9811` → every address; `[::1]:9811` → `::1`. The schema checked the form. */
function hostPort(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(listen.slice(colon + 1)) };
}

export function buildConfig(parsed: ParsedConfig, file: string, position: PositionOf): Config {
  return {
    file,
    global: {
      logging: parsed.global.logging.map(outlet),
      monitoring: parsed.global.monitoring.map((endpoint) => ({ type: endpoint.type, listen: endpoint.listen, ...hostPort(endpoint.listen) })),
      control: { sockpath: parsed.global.control.sockpath },
      serve: { stdinserver: { sockdir: DEFAULT_STDINSERVER_SOCKDIR } },
      stateDir: parsed.global.state_dir,
    },
    jobs: parsed.jobs.map((parsedJob, index) => job(parsedJob, index, position)),
  };
}
