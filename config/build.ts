/**
 * The validated file (snake_case, as zod parsed it) turned into the typed configuration the
 * daemon uses (config/types.ts): camelCase, durations in milliseconds, filters as rules with
 * their place in the file, schedules resolved. Runs only on a file without problems.
 */
import { parseClientNetwork, parseHostPort } from './address.js';
import { parseDuration } from './duration.js';
import { parseFilterKey } from './filesystem-filter.js';
import type { KeyPath } from './key-path.js';
import { HOOK_TYPES, type ParsedConfig, type ParsedJob } from './schema.js';
import { parseSize } from './size.js';
import type {
  BandwidthLimit,
  ClientAddressRule,
  Config,
  ConnectConfig,
  FilesystemFilterRule,
  HookConfig,
  HookType,
  JobConfig,
  LoggingOutlet,
  PruningConfig,
  RecoveryPointObjective,
  ReplicationPolicy,
  Schedule,
  SendOptions,
  ServeConfig,
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

/** The token bucket holds a quarter second of the rate, and never less than this. */
const MIN_BUCKET_CAPACITY = 128 * 1024;

function bytes(value: number | string): number {
  const parsed = parseSize(value);
  // Cannot happen: the schema refused every size parseSize refuses.
  if ('problem' in parsed) throw new Error(`unchecked size ${String(value)}: ${parsed.problem}`);
  return parsed.bytes;
}

type ParsedLimit = NonNullable<Parsed<'push'>['send']['bandwidth_limit']>;

/** zrepl's `bandwidth_limit`; `max: -1` or no max is no limit (undefined). */
export function bandwidthLimit(value: ParsedLimit | undefined): BandwidthLimit | undefined {
  if (value?.max === undefined || value.max === -1) return undefined;
  const maxBytesPerSecond = bytes(value.max);
  const bucketCapacityBytes =
    value.bucket_capacity === undefined ? Math.max(MIN_BUCKET_CAPACITY, Math.floor(maxBytesPerSecond / 4)) : bytes(value.bucket_capacity);
  return { maxBytesPerSecond, bucketCapacityBytes };
}

function limits(send: ParsedLimit | undefined, recv: ParsedLimit | undefined): ReplicationPolicy['bandwidthLimit'] {
  const sendLimit = bandwidthLimit(send);
  const recvLimit = bandwidthLimit(recv);
  return { ...(sendLimit === undefined ? {} : { send: sendLimit }), ...(recvLimit === undefined ? {} : { recv: recvLimit }) };
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
    bandwidthLimit: limits(job.send.bandwidth_limit, job.recv?.bandwidth_limit),
  };
}

type ParsedHooks = NonNullable<Parsed<'push'>['hooks']>;
type ParsedHook = ParsedHooks[number] | Extract<NonNullable<Parsed<'push'>['on_late']>, { type: 'command' }>;

function hook(value: ParsedHook, when: HookType[], where: KeyPath, position: PositionOf): HookConfig {
  return {
    type: value.type,
    path: value.path,
    args: value.args,
    timeoutMs: parseDuration(value.timeout),
    errIsFatal: value.err_is_fatal,
    ...(value.filesystems === undefined ? {} : { filesystems: filters(value.filesystems, where, position) }),
    when,
    position: position(where, 'value'),
  };
}

/** `at`: where the hooks list is (jobs[i].hooks or jobs[i].snapshotting.hooks). */
function hooks(value: ParsedHooks | undefined, place: keyof typeof HOOK_TYPES, at: KeyPath, position: PositionOf): { hooks?: HookConfig[] } {
  if (value === undefined) return {};
  return {
    hooks: value.map((parsed, index) => {
      const when: HookType[] =
        parsed.when === undefined
          ? [...HOOK_TYPES[place]]
          : typeof parsed.when === 'string'
            ? [parsed.when as HookType]
            : [...new Set(parsed.when as HookType[])];
      return hook(parsed, when, [...at, index], position);
    }),
  };
}

/**
 * `rpo` with its `on_late` hooks: those of the `on_late` key, then the job's hooks whose `when`
 * names on_late (given here with when [on_late] only).
 */
function rpo(job: Parsed<'push'> | Parsed<'pull'>, at: KeyPath, position: PositionOf, jobHooks: HookConfig[] | undefined): { rpo?: RecoveryPointObjective } {
  if (job.rpo === undefined) return {};
  const onLate = job.on_late;
  const own =
    onLate === undefined
      ? []
      : Array.isArray(onLate)
        ? onLate.map((parsed, index) => hook(parsed, ['on_late'], [...at, 'on_late', index], position))
        : [hook(onLate, ['on_late'], [...at, 'on_late'], position)];
  const fromHooks = (jobHooks ?? []).filter((each) => each.when.includes('on_late')).map((each): HookConfig => ({ ...each, when: ['on_late'] }));
  return { rpo: { maxAgeMs: parseDuration(job.rpo), onLate: [...own, ...fromHooks] } };
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
  switch (value.type) {
    case 'local':
      return { type: 'local', listenerName: value.listener_name, clientIdentity: value.client_identity };
    case 'tcp':
      return { type: 'tcp', address: value.address, ...parseHostPort(value.address), dialTimeoutMs: parseDuration(value.dial_timeout) };
    case 'tls':
      return {
        type: 'tls',
        address: value.address,
        ...parseHostPort(value.address),
        ca: value.ca,
        cert: value.cert,
        key: value.key,
        serverCn: value.server_cn,
        dialTimeoutMs: parseDuration(value.dial_timeout),
        handshakeTimeoutMs: parseDuration(value.handshake_timeout),
      };
    case 'ssh':
    case 'ssh+stdinserver':
      return ssh(value);
  }
}

/** zrepl's `ssh+stdinserver` is the same connect: the remote key's forced command decides what answers. */
function ssh(value: Extract<Parsed<'push'>['connect'], { type: 'ssh' | 'ssh+stdinserver' }>): ConnectConfig {
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

function serve(value: Parsed<'sink'>['serve'], at: KeyPath, position: PositionOf): ServeConfig {
  switch (value.type) {
    case 'local':
      return { type: 'local', listenerName: value.listener_name };
    case 'tcp':
      return { type: 'tcp', listen: value.listen, ...parseHostPort(value.listen), clients: clientRules(value.clients, [...at, 'serve', 'clients'], position) };
    case 'tls':
      return {
        type: 'tls',
        listen: value.listen,
        ...parseHostPort(value.listen),
        ca: value.ca,
        cert: value.cert,
        key: value.key,
        clientCns: value.client_cns,
        handshakeTimeoutMs: parseDuration(value.handshake_timeout),
      };
    case 'stdinserver':
      return { type: 'stdinserver', clientIdentities: value.client_identities };
  }
}

function clientRules(clients: Record<string, string>, at: KeyPath, position: PositionOf): ClientAddressRule[] {
  return Object.entries(clients).map(([pattern, identity]) => {
    const network = parseClientNetwork(pattern);
    // Cannot happen: the schema refused every key parseClientNetwork refuses.
    if ('problem' in network) throw new Error(`unchecked client ${pattern}: ${network.problem}`);
    return { pattern, ...network, identity, position: position([...at, pattern], 'key') };
  });
}

function withLimit(value: BandwidthLimit | undefined): { bandwidthLimit?: BandwidthLimit } {
  return value === undefined ? {} : { bandwidthLimit: value };
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
      const jobHooks = hooks(parsed.hooks, 'job', [...at, 'hooks'], position);
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
        ...jobHooks,
        ...rpo(parsed, at, position, jobHooks.hooks),
      };
    }
    case 'pull': {
      const jobHooks = hooks(parsed.hooks, 'job', [...at, 'hooks'], position);
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
        ...jobHooks,
        ...rpo(parsed, at, position, jobHooks.hooks),
      };
    }
    case 'sink':
      return {
        ...base,
        type: 'sink',
        serve: serve(parsed.serve, at, position),
        rootFs: parsed.root_fs,
        pathMapping: parsed.path_mapping,
        ...withLimit(bandwidthLimit(parsed.recv?.bandwidth_limit)),
      };
    case 'source':
      return {
        ...base,
        type: 'source',
        serve: serve(parsed.serve, at, position),
        filesystems: filters(parsed.filesystems, at, position),
        snapshotting: snapshotting(parsed.snapshotting, at, position),
        send: sendOptions(parsed.send),
        ...withPruning(pruning(parsed.pruning)),
        ...withLimit(bandwidthLimit(parsed.send.bandwidth_limit)),
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

export function buildConfig(parsed: ParsedConfig, file: string, position: PositionOf): Config {
  return {
    file,
    global: {
      logging: parsed.global.logging.map(outlet),
      monitoring: parsed.global.monitoring.map((endpoint) => ({ type: endpoint.type, listen: endpoint.listen, ...parseHostPort(endpoint.listen) })),
      control: { sockpath: parsed.global.control.sockpath },
      serve: { stdinserver: { sockdir: parsed.global.serve.stdinserver.sockdir } },
      stateDir: parsed.global.state_dir,
    },
    jobs: parsed.jobs.map((parsedJob, index) => job(parsedJob, index, position)),
  };
}
