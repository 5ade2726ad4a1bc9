/**
 * What `zferry status --json` prints and the control socket's `status` call returns: the
 * daemon's view of every job. Times are ISO-8601 strings (UTC), durations and ages seconds,
 * sizes bytes. docs/status.md documents the shape (and docs/control.md, generated from
 * daemon/status-schema.ts, which the compiler keeps to this shape); change them together.
 */

export interface DaemonStatus {
  /** zferry's version. */
  version: string;
  pid: number;
  startedAt: string;
  /** The config file the daemon runs (after the last successful reload). */
  config: string;
  /** When the config was last loaded (start or SIGHUP). */
  configLoadedAt: string;
  jobs: JobStatusView[];
  /** The clients sink and source jobs serve now over tcp, tls or stdinserver (present where some job listens). */
  connections?: ServedConnectionView[];
}

/** One open connection of a client to a sink or source job. */
export interface ServedConnectionView {
  job: string;
  /** Who the listener authenticated the client as: its `clients` entry, certificate CN or stdinserver identity. */
  identity: string;
  transport: 'tcp' | 'tls' | 'stdinserver';
  /** The client's address, as the transport knows it. */
  peer: string;
  /** When it connected. */
  since: string;
}

/**
 * `idle`: waits for its next run; `running`: an invocation is going; `serving`: a sink or source
 * (passive); `stopping`: a reset or shutdown is ending its invocation.
 */
export type JobRunState = 'idle' | 'running' | 'serving' | 'stopping';

export interface JobStatusView {
  name: string;
  type: 'push' | 'pull' | 'sink' | 'source' | 'snap';
  state: JobRunState;
  /** The schedule in words: `every 10m`, `cron 0 3 * * * (Europe/Berlin)`, `manual`; absent for sink and source. */
  schedule?: string;
  /** When the next scheduled run starts (absent: manual, passive, or stopping). */
  nextRunAt?: string;
  /** Ticks that came while an invocation was still running, since the daemon started. */
  skippedTicks: number;
  lastSkippedAt?: string;
  /** The invocation going now. */
  current?: InvocationView;
  /** The last invocation that ended. */
  last?: InvocationView;
  /** Per filesystem: the current invocation's where it runs, else the last one's, with what is remembered across runs. */
  filesystems: FilesystemStatusView[];
  /** A push or pull job's `rpo` (`2h`): a filesystem whose newest replicated snapshot is older is late. */
  rpo?: string;
  /** With `rpo`: how many of its filesystems are late now. */
  late?: number;
}

/**
 * `ok`: every filesystem replicated; `failed`: something failed (see `error` and the
 * filesystems'); `interrupted`: shutdown or `zferry signal reset` stopped it.
 */
export type InvocationOutcome = 'ok' | 'failed' | 'interrupted';

export interface InvocationView {
  /** What started it: its schedule, `wakeup` (zferry signal), or `start` (run at daemon start). */
  trigger: 'schedule' | 'wakeup' | 'start' | 'run';
  startedAt: string;
  endedAt?: string;
  outcome?: InvocationOutcome;
  /** Attempts made: transient failures (connection lost, remote busy) retry with backoff. */
  attempts: number;
  bytes: number;
  error?: { code: string; message: string };
}

export interface FilesystemStatusView {
  source: string;
  target: string;
  /** pending | running | verifying | done | skipped | failed | interrupted (replication/job/types.ts). */
  state: string;
  /** The step running now, in words (`full @a`, `incremental @a → @b`). */
  step?: string;
  /** Steps done and planned in the current (or last) run. */
  stepsDone: number;
  stepsTotal: number;
  /** Bytes sent in the current (or last) run. */
  bytes: number;
  /** The running step's stream size where the sender can tell. */
  bytesTotal?: number;
  /** Bytes of the running step so far: what `bytesTotal` and `etaSeconds` measure against (`bytes` counts the whole run). */
  stepBytes?: number;
  /** Bytes per second over the last few seconds. */
  rate: number;
  /** Seconds left for the running step, where its size is known. */
  etaSeconds?: number;
  /** The newest snapshot known to be on the target, and its age (from the snapshot's creation time when known, else the replication time). */
  lastReplicated?: { snapshot: string; at: string; ageSeconds: number };
  /** The last error, kept until a run of this filesystem succeeds. */
  lastError?: { code: string; message: string; at: string };
  /** Jobs with an `rpo`: whether its newest replicated snapshot (`lastReplicated`) is older than the rpo (never replicated: counted from when the job first saw it). */
  late?: boolean;
}
