/**
 * The running daemon: the jobs of one config, each on its schedule (daemon-job.ts), the
 * control API (DaemonControl: status, wakeup, reset), reloads and shutdown. Which config file,
 * signals, logging and the control socket are the command's (cmd/daemon.ts).
 *
 * A reload applies a config that was already validated: removed jobs are stopped (their running
 * invocation too), new ones scheduled, changed ones replaced once their running invocation has
 * ended; unchanged jobs go on untouched. Push and pull jobs read the sink and source jobs they
 * name at each invocation, so a changed sink applies from the next one.
 *
 * Sink and source jobs with a `serve` of their own (tcp, tls, stdinserver) listen from begin()
 * to shutdown (serving/listeners.ts); a reload restarts the listeners of changed jobs only.
 * Their open connections show in status and reach the metrics through onConnectionChange.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import type { Config, JobConfig } from '../config/types.js';
import { tuneV8ForIdle } from '../platform/index.js';
import type { EndpointOpener } from '../replication/endpoint/open.js';
import type { DaemonControl } from './control-types.js';
import { DaemonJob, type JobInvocation } from './daemon-job.js';
import { DaemonConfigError, checkDaemonConfig } from './daemon-config.js';
import { JobNotTriggerableError, UnknownJobError } from './control-errors.js';
import { Invocation, type Trigger } from './invocation.js';
import { listenersOf, type Listeners } from './job-plan.js';
import { JobNameStore, rememberJobs, type RememberedJobs } from './job-names.js';
import { InvocationStopped, type SchedulerClock } from './scheduler.js';
import { SnapInvocation } from './snap-invocation.js';
import { scheduleOf } from './schedule-ticks.js';
import { newestPrefixSnapshotAt } from './snapshot-rhythm.js';
import type { DaemonStatus } from './status-types.js';
import type { DaemonMetrics } from './metrics/daemon-metrics.js';
import { ConnectionRegistry, type ConnectionChangeListener, type ServedConnection } from './serving/connection-registry.js';
import { ServingListeners } from './serving/listeners.js';

/** Jobs with more filesystems than this run without size estimates (one sender call per step). */
const ESTIMATE_SIZES_UP_TO_FILESYSTEMS = 16;

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  version: string;
  opener: EndpointOpener;
  hostname?: string;
  clock?: SchedulerClock;
  /** Fed from the invocations; reads the jobs at each scrape (cmd/daemon.ts serves it). */
  metrics?: DaemonMetrics;
}

export class Daemon implements DaemonControl {
  readonly #options: DaemonOptions;
  readonly #startedAt: number;
  readonly #names: JobNameStore;
  #config: Config;
  #configLoadedAt: number;
  #listeners: Listeners;
  #remembered: RememberedJobs;
  #jobs = new Map<string, DaemonJob>();
  /** Jobs a reload removed or replaced whose invocation still runs. */
  #leaving = new Set<DaemonJob>();
  #shuttingDown = false;
  /** Invocations running now, across jobs. */
  #running = 0;
  readonly #registry: ConnectionRegistry;
  readonly #serving: ServingListeners;

  private constructor(options: DaemonOptions, remembered: RememberedJobs) {
    this.#options = options;
    this.#startedAt = this.#now();
    this.#config = options.config;
    this.#configLoadedAt = this.#startedAt;
    this.#listeners = listenersOf(options.config.jobs);
    this.#names = new JobNameStore(options.config.global.stateDir);
    this.#remembered = remembered;
    options.metrics?.readJobsFrom(() => [...this.#jobs.values()].map((job) => job.facts()));
    this.#registry = new ConnectionRegistry(() => this.#now());
    const metrics = options.metrics;
    if (metrics !== undefined) {
      this.#registry.onConnectionChange(({ change, connection: { job, identity, transport } }) =>
        change === 'opened' ? metrics.connectionOpened(job, identity, transport) : metrics.connectionClosed(job, identity, transport),
      );
    }
    this.#serving = new ServingListeners({
      logger: options.logger,
      driver: options.opener.driver(),
      registry: this.#registry,
      hostname: options.hostname ?? os.hostname(),
    });
  }

  /**
   * Checks what only the daemon can (each job can be planned; no job silently renamed); throws
   * DaemonConfigError with every problem. Nothing runs until begin().
   */
  static async create(options: DaemonOptions): Promise<Daemon> {
    const names = new JobNameStore(options.config.global.stateDir);
    const remembered = await names.load((message) => options.logger.warn(message));
    checkDaemonConfig(options.config, remembered, names.file);
    return new Daemon(options, remembered);
  }

  /** Records the job names and schedules every job (an interval job runs at once). */
  async begin(): Promise<void> {
    const { config, logger } = this.#options;
    await this.#recordNames(config.jobs);
    for (const job of config.jobs) this.#add(job);
    await this.#serving.apply(config);
    logger.info({ config: config.file, jobs: config.jobs.map((job) => job.name) }, 'daemon started');
  }

  get config(): Config {
    return this.#config;
  }

  /** The metrics it feeds, when it was given some (serving listeners report their connections there). */
  get metrics(): DaemonMetrics | undefined {
    return this.#options.metrics;
  }

  status(): DaemonStatus {
    const now = this.#now();
    return {
      version: this.#options.version,
      pid: process.pid,
      startedAt: new Date(this.#startedAt).toISOString(),
      config: this.#config.file,
      configLoadedAt: new Date(this.#configLoadedAt).toISOString(),
      jobs: [...this.#jobs.values()].map((job) => job.status(now)),
      ...(this.#serving.listeners().length > 0 || this.#registry.connections().length > 0
        ? {
            connections: this.#registry
              .connections()
              .map(({ job, identity, transport, peer, since }) => ({ job, identity, transport, peer, since: new Date(since).toISOString() })),
          }
        : {}),
    };
  }

  /** The clients the sink and source jobs serve now. */
  connections(): ServedConnection[] {
    return this.#registry.connections();
  }

  /** Tells `listener` of every served connection opened or closed (the metrics count them); returns the unsubscribe. */
  onConnectionChange(listener: ConnectionChangeListener): () => void {
    return this.#registry.onConnectionChange(listener);
  }

  /** The running listeners (their bound ports), for tests and status. */
  get serving(): ServingListeners {
    return this.#serving;
  }

  wakeup(name: string): void {
    const job = this.#job(name);
    if (!job.triggerable) throw new JobNotTriggerableError(name, job.config.type);
    if (this.#shuttingDown) return;
    job.logger.info('wakeup');
    job.wakeup();
  }

  reset(name: string): void {
    const job = this.#job(name);
    if (job.reset()) job.logger.warn('reset: stopping the running invocation');
    else job.logger.info('reset: no invocation running');
  }

  /**
   * Applies `config` (already loaded and validated by config/). Throws DaemonConfigError, and
   * changes nothing, when the daemon's own checks refuse it.
   */
  async reload(config: Config): Promise<void> {
    if (this.#shuttingDown) return;
    checkDaemonConfig(config, this.#remembered, this.#names.file);
    await this.#recordNames(config.jobs);
    const { logger } = this.#options;
    const incoming = new Map(config.jobs.map((job) => [job.name, job]));
    for (const [name, job] of this.#jobs) {
      if (incoming.has(name)) continue;
      logger.info({ job: name }, 'job removed from the config: stopping it');
      this.#jobs.delete(name);
      this.#retire(job, new InvocationStopped('removed'));
    }
    this.#config = config;
    this.#configLoadedAt = this.#now();
    this.#listeners = listenersOf(config.jobs);
    for (const next of config.jobs) {
      const current = this.#jobs.get(next.name);
      if (current === undefined) {
        logger.info({ job: next.name }, 'job added');
        this.#add(next);
      } else if (!sameDefinition(current.config, next)) {
        this.#replace(current, next);
      }
    }
    await this.#serving.apply(config);
    logger.info({ config: config.file, jobs: config.jobs.map((job) => job.name) }, 'config reloaded');
  }

  /**
   * Starts nothing new and stops every running invocation (their transfers end; targets stay
   * at their last complete snapshot); resolves once they have all ended.
   */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    const jobs = [...this.#jobs.values(), ...this.#leaving];
    const running = jobs.filter((job) => job.running).map((job) => job.name);
    if (running.length > 0) this.#options.logger.warn({ jobs: running }, 'shutting down: interrupting the running invocations');
    await Promise.all([...jobs.map((job) => job.stop(new InvocationStopped('shutdown'))), this.#serving.stop()]);
  }

  #job(name: string): DaemonJob {
    const job = this.#jobs.get(name);
    if (job === undefined) throw new UnknownJobError(name, [...this.#jobs.keys()]);
    return job;
  }

  #add(config: JobConfig, previous?: DaemonJob): DaemonJob {
    const job = new DaemonJob({
      config,
      logger: this.#options.logger.child({ job: config.name }),
      start: (jobConfig, trigger, logger, known) => this.#startInvocation(jobConfig, trigger, logger, known),
      ...(this.#options.clock !== undefined ? { clock: this.#options.clock } : {}),
      ...(previous !== undefined ? { previous } : {}),
      newestSnapshotAt: () => newestPrefixSnapshotAt(config, this.#options.opener, this.#options.logger.child({ job: config.name })),
    });
    this.#jobs.set(config.name, job);
    job.begin();
    return job;
  }

  /** A changed job: the old definition finishes its running invocation, then the new one takes over. */
  #replace(current: DaemonJob, next: JobConfig): void {
    const { logger } = this.#options;
    if (!current.running) {
      logger.info({ job: next.name }, 'job changed: applying the new definition');
      void current.stop();
      this.#add(next, current);
      return;
    }
    logger.info({ job: next.name }, 'job changed: the new definition applies once the running invocation ends');
    this.#leaving.add(current);
    void current.stop().then(() => {
      this.#leaving.delete(current);
      // A later reload may have removed or replaced it again meanwhile.
      if (this.#shuttingDown || this.#jobs.get(next.name) !== current) return;
      this.#add(next, current);
    });
  }

  #retire(job: DaemonJob, why: InvocationStopped): void {
    this.#leaving.add(job);
    void job.stop(why).then(() => this.#leaving.delete(job));
  }

  #startInvocation(job: JobConfig, trigger: Trigger, logger: Logger, knownFilesystems: number): JobInvocation {
    const invocation = this.#invocationOf(job, trigger, logger, knownFilesystems);
    // Streams tuned while anything runs; idle, V8 may give memory back (platform/v8-tuning.ts).
    if (this.#running++ === 0) tuneV8ForIdle(false);
    const ended = (): void => {
      if (--this.#running === 0) tuneV8ForIdle(true);
    };
    invocation.result.then(ended, ended);
    const metrics = this.#options.metrics;
    if (metrics !== undefined)
      void invocation.result.then(
        (result) => metrics.invocationEnded(job.name, result),
        () => undefined,
      );
    return invocation;
  }

  #invocationOf(job: JobConfig, trigger: Trigger, logger: Logger, knownFilesystems: number): JobInvocation {
    const { opener, metrics } = this.#options;
    const observers = metrics === undefined ? {} : { onPruned: (side: string, durationMs: number) => metrics.pruned(job.name, side, durationMs) };
    if (job.type === 'snap' || (job.type === 'source' && scheduleOf(job) !== undefined))
      return new SnapInvocation({ job, opener, logger, trigger, ...observers });
    if (job.type !== 'push' && job.type !== 'pull') throw new JobNotTriggerableError(job.name, job.type);
    return new Invocation({
      job,
      listeners: this.#listeners,
      opener,
      hostname: this.#options.hostname ?? os.hostname(),
      logger,
      trigger,
      estimateSizes: knownFilesystems <= ESTIMATE_SIZES_UP_TO_FILESYSTEMS,
      ...observers,
      ...(metrics !== undefined ? { onProgress: metrics.progressObserver(job.name) } : {}),
    });
  }

  async #recordNames(jobs: readonly JobConfig[]): Promise<void> {
    const next = rememberJobs(this.#remembered, jobs, listenersOf(jobs));
    if (JSON.stringify(next) === JSON.stringify(this.#remembered)) return;
    try {
      await this.#names.save(next);
      this.#remembered = next;
    } catch (error) {
      this.#options.logger.warn({ err: error, file: this.#names.file }, 'cannot record the job names (renames will not be caught)');
    }
  }

  #now(): number {
    return this.#options.clock?.now() ?? Date.now();
  }
}

/** Whether two definitions of a job are the same, wherever in the file they stand. */
function sameDefinition(a: JobConfig, b: JobConfig): boolean {
  const { position: _a, ...restA } = a;
  const { position: _b, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}

export { DaemonConfigError };
