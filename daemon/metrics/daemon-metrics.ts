/**
 * The daemon's Prometheus metrics, in a registry of its own (not prom-client's global one: a
 * test or an embedding process may hold several daemons). What feeds them: the job runner's
 * progress events (bytes, steps: progress-metrics.ts), invocation ends (outcomes, errors),
 * pruning, the zfs driver's command observer, the serving listeners' connection calls; and,
 * read at each scrape, what the jobs remember of their filesystems (ages, late, rpo).
 * docs/daemon.md (Monitoring) lists every metric; keep it and METRIC_NAMES in step.
 *
 * The job's label is `zferry_job`, not `job` (as zrepl's is `zrepl_job`): Prometheus sets `job`
 * to its scrape job's name, and would rename ours to `exported_job` unless honor_labels is set.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ZfsCommandInfo } from '../../replication/zfs/index.js';
import type { ProgressEvent } from '../../replication/job/types.js';
import { ProgressMetrics } from './progress-metrics.js';

/** What the jobs know at a scrape: per job its rpo, per filesystem its newest replicated snapshot and lateness. */
export interface JobFacts {
  job: string;
  rpoMs?: number;
  filesystems: Array<{ source: string; newestReplicatedAt?: number; late?: boolean }>;
}

/** A connection's transport as a label (tcp, tls, stdinserver, local, …). */
export type ConnectionTransport = string;

/**
 * What a serving listener tells the metrics: each connection once when it is authenticated
 * (its identity known) and once when it closes, with the same labels.
 */
export interface ConnectionObserver {
  connectionOpened(job: string, identity: string, transport: ConnectionTransport): void;
  connectionClosed(job: string, identity: string, transport: ConnectionTransport): void;
}

/** The names this registry exports (besides prom-client's default process_* and nodejs_* ones). */
export const METRIC_NAMES = {
  bytes: 'zferry_replication_bytes_total',
  stepDuration: 'zferry_replication_step_duration_seconds',
  pruneDuration: 'zferry_prune_duration_seconds',
  errors: 'zferry_errors_total',
  lastSuccess: 'zferry_last_successful_replication_timestamp_seconds',
  newestAge: 'zferry_newest_replicated_snapshot_age_seconds',
  late: 'zferry_late',
  rpo: 'zferry_rpo_seconds',
  zfsCommandDuration: 'zferry_zfs_command_duration_seconds',
  openConnections: 'zferry_open_connections',
  invocations: 'zferry_invocations_total',
} as const;

/** Transfers run from seconds to many hours. */
const STEP_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600];
const PRUNE_BUCKETS = [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800];
/** zfs list/get take milliseconds to seconds; send and recv as long as a step. */
const ZFS_COMMAND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 4 * 3600];

export interface DaemonMetricsOptions {
  /** ms since the epoch; default Date.now (ages at scrape time). */
  now?: () => number;
  /** Leave out prom-client's process and Node.js metrics (tests that count series). */
  defaultMetrics?: boolean;
}

export class DaemonMetrics implements ConnectionObserver {
  readonly registry = new Registry();
  readonly #now: () => number;
  #facts: () => readonly JobFacts[] = () => [];
  readonly #bytes: Counter<'zferry_job' | 'filesystem'>;
  readonly #stepDuration: Histogram<'zferry_job' | 'kind' | 'outcome'>;
  readonly #pruneDuration: Histogram<'zferry_job' | 'side'>;
  readonly #errors: Counter<'zferry_job' | 'code'>;
  readonly #lastSuccess: Gauge<'zferry_job' | 'filesystem'>;
  readonly #zfsCommand: Histogram<'subcommand' | 'outcome'>;
  readonly #connections: Gauge<'zferry_job' | 'identity' | 'transport'>;
  readonly #invocations: Counter<'zferry_job' | 'outcome'>;

  constructor(options: DaemonMetricsOptions = {}) {
    this.#now = options.now ?? Date.now;
    const registers = [this.registry];
    this.#bytes = new Counter({
      name: METRIC_NAMES.bytes,
      help: 'Bytes of replication streams sent, per job and source filesystem (an interrupted step counts what it sent)',
      labelNames: ['zferry_job', 'filesystem'],
      registers,
    });
    this.#stepDuration = new Histogram({
      name: METRIC_NAMES.stepDuration,
      help: 'Duration of replication steps (one zfs send | zfs recv), by kind (full, incremental) and outcome (ok, failed, interrupted)',
      labelNames: ['zferry_job', 'kind', 'outcome'],
      buckets: STEP_BUCKETS,
      registers,
    });
    this.#pruneDuration = new Histogram({
      name: METRIC_NAMES.pruneDuration,
      help: 'Duration of pruning one side (sender, receiver, local)',
      labelNames: ['zferry_job', 'side'],
      buckets: PRUNE_BUCKETS,
      registers,
    });
    this.#errors = new Counter({
      name: METRIC_NAMES.errors,
      help: 'Errors by code: each failed filesystem, each run that could not start, each invocation that failed without either',
      labelNames: ['zferry_job', 'code'],
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: METRIC_NAMES.lastSuccess,
      help: 'When a filesystem last replicated successfully (replicated or found up to date), unix seconds',
      labelNames: ['zferry_job', 'filesystem'],
      registers,
    });
    const facts = (): readonly JobFacts[] => this.#facts();
    const now = (): number => this.#now();
    new Gauge({
      name: METRIC_NAMES.newestAge,
      help: "Age of the newest snapshot known to be on the target (from the snapshot's creation time), seconds",
      labelNames: ['zferry_job', 'filesystem'],
      registers,
      collect() {
        this.reset();
        for (const job of facts()) {
          for (const fs of job.filesystems) {
            if (fs.newestReplicatedAt !== undefined)
              this.set({ zferry_job: job.job, filesystem: fs.source }, Math.max(0, (now() - fs.newestReplicatedAt) / 1000));
          }
        }
      },
    });
    new Gauge({
      name: METRIC_NAMES.late,
      help: "1 when a filesystem's newest replicated snapshot is older than its job's rpo, else 0 (jobs with an rpo only)",
      labelNames: ['zferry_job', 'filesystem'],
      registers,
      collect() {
        this.reset();
        for (const job of facts()) {
          if (job.rpoMs === undefined) continue;
          for (const fs of job.filesystems) this.set({ zferry_job: job.job, filesystem: fs.source }, fs.late === true ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: METRIC_NAMES.rpo,
      help: "The job's recovery point objective (rpo), seconds",
      labelNames: ['zferry_job'],
      registers,
      collect() {
        this.reset();
        for (const job of facts()) if (job.rpoMs !== undefined) this.set({ zferry_job: job.job }, job.rpoMs / 1000);
      },
    });
    this.#zfsCommand = new Histogram({
      name: METRIC_NAMES.zfsCommandDuration,
      help: 'Duration of zfs and zpool commands run on this host, by subcommand (send, recv, list, get, snapshot, destroy, hold, …) and outcome (ok, failed)',
      labelNames: ['subcommand', 'outcome'],
      buckets: ZFS_COMMAND_BUCKETS,
      registers,
    });
    this.#connections = new Gauge({
      name: METRIC_NAMES.openConnections,
      help: 'Connections open now to a serving job (sink, source), per client identity and transport',
      labelNames: ['zferry_job', 'identity', 'transport'],
      registers,
    });
    this.#invocations = new Counter({
      name: METRIC_NAMES.invocations,
      help: 'Invocations of a job that ended, by outcome (ok, failed, interrupted)',
      labelNames: ['zferry_job', 'outcome'],
      registers,
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Where the scrape-time gauges (ages, late, rpo) read the jobs from. */
  readJobsFrom(facts: () => readonly JobFacts[]): void {
    this.#facts = facts;
  }

  /** A fresh observer for one invocation's progress events (bytes, steps, successes). */
  progressObserver(job: string): (event: ProgressEvent) => void {
    const progress = new ProgressMetrics({
      bytes: (filesystem, bytes) => this.#bytes.inc({ zferry_job: job, filesystem }, bytes),
      step: (kind, outcome, durationMs) => this.#stepDuration.observe({ zferry_job: job, kind, outcome }, durationMs / 1000),
      succeeded: (filesystem) => this.#lastSuccess.set({ zferry_job: job, filesystem }, this.#now() / 1000),
      now: this.#now,
    });
    return (event) => progress.observe(event);
  }

  /** An invocation ended: its outcome, and its errors by code. */
  invocationEnded(
    job: string,
    result: {
      outcome: string;
      filesystems: ReadonlyArray<{ outcome: string; error?: { code: string } }>;
      runErrors?: ReadonlyArray<{ code: string }>;
      error?: { code: string };
    },
  ): void {
    this.#invocations.inc({ zferry_job: job, outcome: result.outcome });
    if (result.outcome === 'interrupted') return;
    let counted = 0;
    for (const fs of result.filesystems) {
      if (fs.outcome !== 'failed' || fs.error === undefined) continue;
      this.#errors.inc({ zferry_job: job, code: fs.error.code });
      counted += 1;
    }
    for (const run of result.runErrors ?? []) {
      this.#errors.inc({ zferry_job: job, code: run.code });
      counted += 1;
    }
    if (counted === 0 && result.outcome === 'failed') this.#errors.inc({ zferry_job: job, code: result.error?.code ?? 'UNKNOWN' });
  }

  pruned(job: string, side: string, durationMs: number): void {
    this.#pruneDuration.observe({ zferry_job: job, side }, durationMs / 1000);
  }

  /** The zfs driver's command observer (EndpointOpenerOptions.onZfsCommand). */
  readonly zfsCommand = (info: ZfsCommandInfo): void => {
    this.#zfsCommand.observe({ subcommand: info.subcommand, outcome: info.ok ? 'ok' : 'failed' }, info.durationMs / 1000);
  };

  /** A serving job accepted a connection from `identity` over `transport`. Call connectionClosed with the same labels once. */
  connectionOpened(job: string, identity: string, transport: ConnectionTransport): void {
    this.#connections.inc({ zferry_job: job, identity, transport });
  }

  connectionClosed(job: string, identity: string, transport: ConnectionTransport): void {
    this.#connections.dec({ zferry_job: job, identity, transport });
  }

  /** The Prometheus text exposition of everything. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
