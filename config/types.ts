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
  /** Prometheus and friends arrive with the serving issue; empty until then. */
  monitoring: MonitoringConfig[];
  control: { sockpath: string };
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
  listen: string;
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
}

/**
 * zrepl's `snapshotting`. The daemon takes snapshots for `periodic` and `cron` (built with
 * pruning); `manual` takes none: the job replicates what exists.
 */
export type SnapshottingConfig =
  | { type: 'manual' }
  | { type: 'periodic'; prefix: string; intervalMs: number; timestampFormat: string }
  | { type: 'cron'; prefix: string; cron: string; timeZone?: string; timestampFormat: string };

/** zrepl's `pruning`, kept as parsed (rules are evaluated by replication/pruning). */
export interface PruningConfig {
  keepSender?: unknown[];
  keepReceiver?: unknown[];
  keep?: unknown[];
}

export type ConnectConfig = LocalConnect | SshConnect;

/** A `sink` or `source` job of the same daemon, by its `serve.listener_name`. */
export interface LocalConnect {
  type: 'local';
  listenerName: string;
  /** Who this job is to that listener: a sink puts its filesystems below `root_fs/<identity>`. */
  clientIdentity: string;
}

/** `zferry serve --stdio` (or the forced command in authorized_keys) on another host. */
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

export interface ServeLocal {
  type: 'local';
  listenerName: string;
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
}

export interface SinkJob extends JobBase {
  type: 'sink';
  serve: ServeLocal;
  rootFs: string;
  pathMapping: PathMapping;
}

export interface SourceJob extends JobBase {
  type: 'source';
  serve: ServeLocal;
  filesystems: FilesystemFilterRule[];
  snapshotting: SnapshottingConfig;
  pruning?: PruningConfig;
  send: SendOptions;
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
