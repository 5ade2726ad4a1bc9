/**
 * The daemon's configuration after validation: what config/load.ts hands to the daemon. The
 * YAML keys follow zrepl's (docs/configuration.md); zferry's own additions have names of their
 * own. Durations are milliseconds, sizes bytes; every optional key is resolved to its default.
 */

/** Where a value came from in the file: errors and `configcheck` name it as FILE:LINE:COLUMN. */
export interface SourcePosition {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface Config {
  /** The file it was read from (absolute). */
  file: string;
  global: GlobalConfig;
  jobs: JobConfig[];
}

export interface GlobalConfig {
  logging: LoggingOutlet[];
  /** `type: prometheus`: the daemon serves /metrics on `listen`. */
  monitoring: MonitoringConfig[];
  control: { sockpath: string };
  /** zrepl's `global.serve`: where `stdinserver` sinks and sources keep their per-client sockets. */
  serve: { stdinserver: { sockdir: string } };
  /**
   * zferry: where the daemon keeps what it must remember across restarts (the job names it ran,
   * for the rename check). Default /var/lib/zferry.
   */
  stateDir: string;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** `stdout` in zrepl's vocabulary; zferry writes it to stderr (stdout may carry RPC). */
export type LoggingOutlet =
  { type: 'stdout'; level: LogLevel; format: 'human' | 'json' | 'auto' } | { type: 'file'; level: LogLevel; format: 'human' | 'json'; path: string };

export interface MonitoringConfig {
  type: 'prometheus';
  /** As written (`:9811`, `127.0.0.1:9811`, `[::1]:9811`). */
  listen: string;
  /** Parsed from `listen`; an empty host (`:9811`) listens on every address. */
  host: string;
  port: number;
}

/**
 * When a job replicates (push, pull) or snapshots and prunes (snap): zrepl's `interval`
 * (`10m`, or `manual`), or zferry's `cron` (croner syntax: optional seconds field, day-of-week,
 * with `time_zone`).
 */
export type Schedule = { kind: 'interval'; everyMs: number } | { kind: 'cron'; expression: string; timeZone?: string } | { kind: 'manual' };

/**
 * The `filesystems` filter, kept as written: `"pool/a<": true` selects the subtree, an exact
 * path beats a subtree rule, the most specific rule wins, no match means not selected
 * (config/filesystem-filter.ts evaluates it).
 */
export interface FilesystemFilterRule {
  /** The dataset the rule names (without the trailing `<`). */
  path: string;
  subtree: boolean;
  include: boolean;
  /** The key as written in the file, for `zferry test filesystems`. */
  pattern: string;
  position: SourcePosition;
}

export interface SendOptions {
  raw: boolean;
  compressed: boolean;
  largeBlocks: boolean;
  embeddedData: boolean;
}

export type InitialReplication = 'all' | 'most_recent' | 'fail';
export type OnDiverged = 'fail' | 'rollback' | 'rename';

/**
 * Where a replicated filesystem lands below the receiving root:
 * - `nested` (zrepl's): a sink puts client C's `pool/x` at `root_fs/C/pool/x`, a pull job at
 *   `root_fs/pool/x`;
 * - `one_to_one` (zferry, zrepl#253): the job's single filter root lands at `root_fs` itself and
 *   its children below it, as `zferry push -r SRC DST` does.
 */
export type PathMapping = 'nested' | 'one_to_one';

/** What the push, pull and snap jobs share about snapshot selection and replication. */
export interface ReplicationPolicy {
  send: SendOptions;
  initialReplication: InitialReplication;
  onDiverged: OnDiverged;
  /** zferry: one `zfs send -I` per run of snapshots instead of one `-i` per snapshot. */
  batch: boolean;
  /** zferry: snapshot name globs (short names, after the `@`); empty include = all. */
  snapshots: { include: string[]; exclude: string[] };
  /** Filesystems replicated at once (zrepl: `replication.concurrency.steps`). */
  concurrency: number;
  /** `send.bandwidth_limit` (what this job sends) and `recv.bandwidth_limit` (what it receives). */
  bandwidthLimit: { send?: BandwidthLimit; recv?: BandwidthLimit };
}

/**
 * zrepl's `snapshotting`. The daemon takes snapshots for `periodic` and `cron` (built with
 * pruning); `manual` takes none: the job replicates what exists. `timestampLocation`: the zone
 * of the name's timestamp, `Local` or an IANA name (absent: UTC).
 */
export type SnapshottingConfig =
  | { type: 'manual' }
  | { type: 'periodic'; prefix: string; intervalMs: number; timestampFormat: string; timestampLocation?: string; hooks?: HookConfig[] }
  | { type: 'cron'; prefix: string; cron: string; timeZone?: string; timestampFormat: string; timestampLocation?: string; hooks?: HookConfig[] };

/** When a hook runs: around each filesystem's snapshot, or around a replication job's invocation. */
export type HookType = 'pre_snapshot' | 'post_snapshot' | 'pre_replication' | 'post_replication' | 'on_late';

/**
 * zrepl's `type: command` hook (`snapshotting.hooks`), and zferry's replication hooks (a push or
 * pull job's `hooks`). docs/configuration.md describes the environment a hook sees.
 */
export interface HookConfig {
  type: 'command';
  /** Absolute path of the command, run without a shell. */
  path: string;
  args: string[];
  timeoutMs: number;
  /** A failed pre hook skips its snapshot (or replication); a failed post hook only logs. */
  errIsFatal: boolean;
  /** Where it runs: the filesystems (or replication roots) this filter selects; absent: all of the job's. */
  filesystems?: FilesystemFilterRule[];
  /** Resolved: the hook types of its place it runs at (default: both). */
  when: HookType[];
  position: SourcePosition;
}

/** zrepl's `pruning`, kept as parsed (rules are evaluated by replication/pruning). */
export interface PruningConfig {
  keepSender?: unknown[];
  keepReceiver?: unknown[];
  keep?: unknown[];
}

export type ConnectConfig = LocalConnect | SshConnect | TcpConnect | TlsConnect;

/** A `sink` or `source` job of the same daemon, by its `serve.listener_name`. */
export interface LocalConnect {
  type: 'local';
  listenerName: string;
  /** Who this job is to that listener: a sink puts its filesystems below `root_fs/<identity>`. */
  clientIdentity: string;
}

/**
 * `zferry serve --stdio` (or the forced command in authorized_keys, e.g. `zferry stdinserver ID`)
 * on another host. zrepl's `type: ssh+stdinserver` is read as this.
 */
export interface SshConnect {
  type: 'ssh';
  host: string;
  user?: string;
  port?: number;
  identityFile?: string;
  /** `ssh -o` options as `Key=value`. */
  options: string[];
  /** zferry: what runs on the remote (default `zferry serve --stdio`). */
  remoteCommand?: string[];
}

/** A sink or source job of another daemon listening with `serve: {type: tcp}`. */
export interface TcpConnect {
  type: 'tcp';
  /** As written: `host:port` (`[v6]:port`). */
  address: string;
  host: string;
  port: number;
  /** zrepl's `dial_timeout`; default 10 s. */
  dialTimeoutMs: number;
}

/** A sink or source of another daemon listening with `serve: {type: tls}`: mutual TLS. */
export interface TlsConnect {
  type: 'tls';
  address: string;
  host: string;
  port: number;
  /** Absolute paths of PEM files: the CA that signed the server, this client's certificate and key. */
  ca: string;
  cert: string;
  key: string;
  /** The CN the server's certificate must carry. */
  serverCn: string;
  dialTimeoutMs: number;
  /** Default 10 s. */
  handshakeTimeoutMs: number;
}

export type ServeConfig = ServeLocal | ServeTcp | ServeTls | ServeStdinserver;

/** Push and pull jobs of this daemon reach the job by `listener_name` (no socket). */
export interface ServeLocal {
  type: 'local';
  listenerName: string;
}

/**
 * One entry of a tcp serve's `clients` map (zrepl's form): an address or a CIDR range, and the
 * identity it gets. A range's identity may hold one `*`, replaced by the client's address.
 */
export interface ClientAddressRule {
  /** The key as written (`192.0.2.10`, `198.51.100.0/24`, `2001:db8::/32`). */
  pattern: string;
  /** The network address (no prefix length) and the prefix length (32 or 128 for a single address). */
  address: string;
  prefixLength: number;
  family: 4 | 6;
  identity: string;
  position: SourcePosition;
}

export interface ServeTcp {
  type: 'tcp';
  /** As written: `:8888`, `0.0.0.0:8888`, `[::]:8888`. */
  listen: string;
  /** Empty: every address. */
  host: string;
  port: number;
  clients: ClientAddressRule[];
}

export interface ServeTls {
  type: 'tls';
  listen: string;
  host: string;
  port: number;
  ca: string;
  cert: string;
  key: string;
  /** The client certificate CNs accepted; a CN is the client's identity. */
  clientCns: string[];
  /** Default 10 s. */
  handshakeTimeoutMs: number;
}

/**
 * zrepl's `stdinserver`: clients come through ssh, whose authorized_keys forced command
 * `zferry stdinserver ID` connects to this daemon's per-identity socket in
 * `global.serve.stdinserver.sockdir`.
 */
export interface ServeStdinserver {
  type: 'stdinserver';
  clientIdentities: string[];
}

/**
 * zrepl's `bandwidth_limit` (under `send` or `recv`): a token bucket over the job's streams,
 * shared by all of them. Bytes per second; the bucket holds `bucketCapacityBytes` (default: a
 * quarter second of `maxBytesPerSecond`, at least 128 KiB).
 */
export interface BandwidthLimit {
  maxBytesPerSecond: number;
  bucketCapacityBytes: number;
}

/** How late a replication job's filesystems may fall behind before they count as `late`. */
export interface RecoveryPointObjective {
  /** A filesystem whose newest replicated snapshot is older than this is late. */
  maxAgeMs: number;
  /** Hooks that run once when a filesystem goes late and once when it recovers (ZFERRY_LATE_STATE). */
  onLate: HookConfig[];
}

interface JobBase {
  name: string;
  /** Where the job's entry starts in the file. */
  position: SourcePosition;
  /**
   * zferry (zrepl#327): the job's former names. Its cursors and holds were tagged with them:
   * they are taken over instead of starting a fresh full replication.
   */
  renamedFrom: string[];
}

export interface PushJob extends JobBase {
  type: 'push';
  connect: ConnectConfig;
  filesystems: FilesystemFilterRule[];
  /** zferry: where the filesystems land over ssh (over `local` the sink's `root_fs` decides). */
  rootFs?: string;
  pathMapping: PathMapping;
  schedule: Schedule;
  snapshotting: SnapshottingConfig;
  pruning?: PruningConfig;
  replication: ReplicationPolicy;
  /** zferry (zrepl#394): pre_replication / post_replication hooks (and on_late ones, also in `rpo`). */
  hooks?: HookConfig[];
  /** zferry: `rpo` (a duration) and the `on_late` hooks. */
  rpo?: RecoveryPointObjective;
}

export interface PullJob extends JobBase {
  type: 'pull';
  connect: ConnectConfig;
  rootFs: string;
  /**
   * zferry: what to pull. Over ssh from `zferry serve` it is required; from a local `source`
   * job the source's own filter applies (and this one, if given, narrows it).
   */
  filesystems: FilesystemFilterRule[];
  pathMapping: PathMapping;
  schedule: Schedule;
  pruning?: PruningConfig;
  replication: ReplicationPolicy;
  /** zferry (zrepl#394): pre_replication / post_replication hooks (and on_late ones, also in `rpo`). */
  hooks?: HookConfig[];
  /** zferry: `rpo` (a duration) and the `on_late` hooks. */
  rpo?: RecoveryPointObjective;
}

export interface SinkJob extends JobBase {
  type: 'sink';
  serve: ServeConfig;
  rootFs: string;
  pathMapping: PathMapping;
  /** `recv.bandwidth_limit`: shared by every client's receives. */
  bandwidthLimit?: BandwidthLimit;
}

export interface SourceJob extends JobBase {
  type: 'source';
  serve: ServeConfig;
  filesystems: FilesystemFilterRule[];
  snapshotting: SnapshottingConfig;
  pruning?: PruningConfig;
  send: SendOptions;
  /** `send.bandwidth_limit`: shared by every client's sends. */
  bandwidthLimit?: BandwidthLimit;
}

export interface SnapJob extends JobBase {
  type: 'snap';
  filesystems: FilesystemFilterRule[];
  snapshotting: SnapshottingConfig;
  pruning?: PruningConfig;
}

export type JobConfig = PushJob | PullJob | SinkJob | SourceJob | SnapJob;
export type JobType = JobConfig['type'];

/** The control socket when the config does not say. */
export const DEFAULT_CONTROL_SOCKPATH = '/run/zferry/control';
export const DEFAULT_CONFIG_FILE = '/etc/zferry/zferry.yml';
export const DEFAULT_STATE_DIR = '/var/lib/zferry';
/** zrepl's default is /var/run/zrepl/stdinserver. */
export const DEFAULT_STDINSERVER_SOCKDIR = '/run/zferry/stdinserver';
