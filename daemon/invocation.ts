/**
 * One invocation of a push or pull job: what a scheduled tick, `zferry signal wakeup` and
 * `zferry run` all start. It opens both sides from the job's plan (job-plan.ts) and runs the
 * job runner (replication/job) once per root of the job's filter, exactly as the one-shot CLI
 * runs one tree. Transient failures (transient.ts) are tried again within the invocation after
 * a pause (1 s, 2 s, …), only for the runs they hit; the invocation's signal cuts every wait
 * and transfer short.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { InvocationOutcome, InvocationView } from './status-types.js';
import type { PullJob, PushJob } from '../config/types.js';
import { enabledSendFlags } from '../replication/contract.js';
import type { DestinationIdentity } from '../replication/endpoint/identity.js';
import type { EndpointOpener, OpenedEndpoint } from '../replication/endpoint/open.js';
import { describeError } from '../replication/job/errors.js';
import { startReplication } from '../replication/job/run-job.js';
import type { FilesystemResult, FilesystemStatus, JobSpec, JobSummary, ProgressEvent, ReplicationHandle } from '../replication/job/types.js';
import { lowerLimit, type BandwidthLimit } from '../replication/throttle/limit.js';
import { createSharedBucket } from '../replication/throttle/throttled-stream.js';
import type { TokenBucket } from '../replication/throttle/token-bucket.js';
import { errorMessage } from '../platform/errors.js';
import { destinationOf } from './destination.js';
import { pruneOverRun, runPruneSides, type PruneObserver } from './prune.js';
import { SinkRootMissingError } from './errors.js';
import { planReplication, type Listeners, type ReplicationPlan, type RunPlan } from './job-plan.js';
import { withServedSession } from './served-plan.js';
import { ownedSnapshotGlobs } from './ownership.js';
import { hookFailureError, runHooks, snapshotHooks } from './hooks.js';
import { takeSnapshots } from './take-snapshots.js';
import { backoffMs, isTransient } from './transient.js';

export type Trigger = InvocationView['trigger'];

/** Listeners on the invocation's signal per running filesystem, and its own (see cmd/replicate.ts). */
const LISTENERS_PER_RUNNING_FILESYSTEM = 4;
const LISTENERS_PER_INVOCATION = 10;

export interface InvocationOptions {
  job: PushJob | PullJob;
  /** The sink and source jobs of the config the invocation starts under. */
  listeners: Listeners;
  opener: EndpointOpener;
  /** This host's name in local destinations. */
  hostname: string;
  /** Carries `job`. */
  logger: Logger;
  trigger: Trigger;
  /** Ask the sender for stream sizes (status shows ETA): only where it is cheap. */
  estimateSizes?: boolean;
  /** Attempts at most (transient failures); default 3. */
  maxAttempts?: number;
  /**
   * Try again when another zferry holds a target (TARGET_BUSY); default true. The lock already
   * waited a few seconds: `zferry run` says at once that the target is busy.
   */
  retryTargetBusy?: boolean;
  /** The first pause before another attempt (doubling after); default 1 s. */
  firstBackoffMs?: number;
  now?: () => number;
  /** Told each progress event of the job runner (the daemon's metrics), besides the log. */
  onProgress?: (event: ProgressEvent) => void;
  /** Told how long pruning each side took (metrics). */
  onPruned?: PruneObserver;
}

export interface InvocationResult {
  outcome: InvocationOutcome;
  attempts: number;
  startedAt: number;
  endedAt: number;
  /** Each run's last summary, in the order of the job's filter roots (runs that never summed up left out). */
  summaries: JobSummary[];
  /** Every filesystem's result over all runs. */
  filesystems: FilesystemResult[];
  bytes: number;
  /** Why it failed: a run that could not start, else the first filesystem's error. */
  error?: { code: string; message: string };
  /** Runs that could not start, with why (source missing, a side unreachable, …). */
  runErrors: Array<{ source: string; target: string; code: string; message: string }>;
}

/** One root of the filter: its latest attempt's handle and how that ended. */
interface Slot {
  plan: RunPlan;
  handle?: ReplicationHandle;
  summary?: JobSummary;
  error?: { code: string; message: string };
  /** A fatal pre_replication hook failed: the run does not start (and its post hooks do not run). */
  skippedByHook?: boolean;
}

export class Invocation {
  readonly trigger: Trigger;
  readonly startedAt: number;
  readonly result: Promise<InvocationResult>;
  readonly #options: InvocationOptions;
  readonly #controller = new AbortController();
  readonly #clock: () => number;
  #slots: Slot[] = [];
  #attempts = 0;
  /** The job's bandwidth limit, one bucket for every root and attempt of this invocation. */
  readonly #bandwidth: TokenBucket | undefined;

  constructor(options: InvocationOptions) {
    this.#options = options;
    this.trigger = options.trigger;
    this.#clock = options.now ?? Date.now;
    this.startedAt = this.#clock();
    const limit = jobBandwidthLimit(options.job);
    this.#bandwidth = limit !== undefined ? createSharedBucket(limit) : undefined;
    setMaxListeners(LISTENERS_PER_RUNNING_FILESYSTEM * Math.max(1, options.job.replication.concurrency) + LISTENERS_PER_INVOCATION, this.#controller.signal);
    this.result = this.#run();
  }

  get attempts(): number {
    return this.#attempts;
  }

  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Stops the invocation: transfers end, targets stay at their last complete snapshot; `result` still resolves. */
  abort(reason: Error): void {
    this.#controller.abort(reason);
  }

  /** Every filesystem of the runs started so far (the latest attempt's), and the bytes sent. */
  status(): { filesystems: FilesystemStatus[]; bytes: number } {
    const filesystems = this.#slots.flatMap((slot) => slot.handle?.status().filesystems ?? []);
    return { filesystems, bytes: filesystems.reduce((sum, fs) => sum + fs.bytes, 0) };
  }

  async #run(): Promise<InvocationResult> {
    const { job, logger } = this.#options;
    let plan: ReplicationPlan;
    try {
      plan = planReplication(job, this.#options.listeners);
    } catch (error) {
      logger.error({ err: error }, 'job cannot run');
      return this.#ended({ error: describeError(error) });
    }
    // A push snapshots first (snapshot → replicate), once: a retry replicates what is there.
    let hookError: { code: string; message: string } | undefined;
    if (job.type === 'push' && job.snapshotting.type !== 'manual') {
      const hooks = snapshotHooks(job.name, job.snapshotting.hooks, { logger, signal: this.#controller.signal });
      try {
        await takeSnapshots({
          job: job.name,
          filesystems: job.filesystems,
          snapshotting: job.snapshotting,
          opener: this.#options.opener,
          logger,
          at: new Date(this.startedAt),
          signal: this.#controller.signal,
          // Only where the job has some: without, a whole subtree is snapshot without listing it.
          ...(job.snapshotting.hooks !== undefined && job.snapshotting.hooks.length > 0 ? { hooks } : {}),
        });
        hookError = hookFailureError(hooks.fatalFailures);
      } catch (error) {
        if (!this.aborted) logger.error({ err: error }, 'snapshotting failed: nothing replicated');
        return this.#ended({ error: this.aborted ? { code: 'INTERRUPTED', message: errorMessage(this.#controller.signal.reason) } : describeError(error) });
      }
    }
    if (plan.session !== undefined) {
      // Over tcp or tls the other daemon says where this client lands (served-plan.ts).
      try {
        plan = await this.#servedSession(plan);
      } catch (error) {
        if (!this.aborted) logger.error({ err: error }, 'job cannot run: no session with the served side');
        return this.#ended({ error: this.aborted ? { code: 'INTERRUPTED', message: errorMessage(this.#controller.signal.reason) } : describeError(error) });
      }
    }
    this.#slots = plan.runs.map((run) => ({ plan: run }));
    await this.#preReplicationHooks();
    const maxAttempts = Math.max(1, this.#options.maxAttempts ?? 3);
    let pending = this.#slots.filter((slot) => slot.skippedByHook !== true);
    for (;;) {
      this.#attempts += 1;
      await this.#attempt(plan, pending);
      if (this.aborted) break;
      const retryBusy = this.#options.retryTargetBusy ?? true;
      const retry = pending.filter((slot) => transientFailure(slot, retryBusy));
      if (retry.length === 0 || this.#attempts >= maxAttempts) break;
      const pause = backoffMs(this.#attempts + 1, this.#options.firstBackoffMs);
      logger.warn(
        { attempt: this.#attempts, nextAttemptInMs: pause, failures: retry.map((slot) => slot.error ?? firstFailure(slot.summary)) },
        'transient failure: trying again',
      );
      if (!(await this.#pause(pause))) break;
      pending = retry;
    }
    const ended = this.#ended(hookError !== undefined ? { error: hookError } : {});
    await this.#postReplicationHooks(ended.outcome);
    return ended;
  }

  /** The plan resolved by the served side's session; a transient failure (the server restarting) is tried again like a run. */
  async #servedSession(plan: ReplicationPlan): Promise<ReplicationPlan> {
    const { job, logger, opener } = this.#options;
    const maxAttempts = Math.max(1, this.#options.maxAttempts ?? 3);
    for (let attempt = 1; ; attempt++) {
      try {
        return await withServedSession(job, plan, opener, this.#controller.signal);
      } catch (error) {
        const code = describeError(error).code;
        if (this.aborted || attempt >= maxAttempts || !isTransient(code) || code === 'TARGET_BUSY') throw error;
        const pause = backoffMs(attempt + 1, this.#options.firstBackoffMs);
        logger.warn({ attempt, nextAttemptInMs: pause, code, err: errorMessage(error) }, 'no session with the served side: trying again');
        if (!(await this.#pause(pause))) throw error;
      }
    }
  }

  /** Each root's pre_replication hooks, before the first transfer; a fatal failure skips that root's run. */
  async #preReplicationHooks(): Promise<void> {
    const { job, logger } = this.#options;
    if (job.hooks === undefined) return;
    for (const slot of this.#slots) {
      if (this.aborted) return;
      const point = { type: 'pre_replication' as const, job: job.name, filesystem: slot.plan.source, target: slot.plan.target };
      const ran = await runHooks(job.hooks, point, { logger, signal: this.#controller.signal });
      if (ran.fatal === undefined) continue;
      slot.skippedByHook = true;
      slot.error = { code: 'HOOK_FAILED', message: `pre_replication hook ${ran.fatal.hook} ${ran.fatal.message}: ${slot.plan.source} not replicated` };
      logger.error({ filesystem: slot.plan.source, hook: ran.fatal.hook }, 'replication skipped: a pre_replication hook failed (err_is_fatal)');
    }
  }

  /** Each root's post_replication hooks, after the last attempt, with how its run ended (zrepl#395: mail on failure). */
  async #postReplicationHooks(invocationOutcome: InvocationOutcome): Promise<void> {
    const { job, logger } = this.#options;
    if (job.hooks === undefined) return;
    for (const slot of this.#slots) {
      if (slot.skippedByHook === true) continue;
      const failed = slot.error !== undefined || slot.summary?.outcome === 'failed';
      const outcome = invocationOutcome === 'interrupted' ? 'interrupted' : failed ? 'failed' : 'ok';
      const summary = runSummaryLine(slot, outcome);
      const stdin = JSON.stringify({ job: job.name, source: slot.plan.source, target: slot.plan.target, outcome, error: slot.error, summary: slot.summary });
      // Not cut short by the invocation's signal: a stopped run is what such a hook reports.
      await runHooks(
        job.hooks,
        { type: 'post_replication', job: job.name, filesystem: slot.plan.source, target: slot.plan.target, outcome, summary, stdin },
        { logger },
      );
    }
  }

  /** One attempt at `slots`: both sides opened, each root's run in turn, both sides closed. */
  async #attempt(plan: ReplicationPlan, slots: readonly Slot[]): Promise<void> {
    const { opener, logger } = this.#options;
    const opened: OpenedEndpoint[] = [];
    try {
      const sender = opener.open(plan.sender);
      opened.push(sender);
      const receiver = opener.open(plan.receiver);
      opened.push(receiver);
      if (plan.sinkRoot !== undefined) await this.#checkSinkRoot(plan.sinkRoot);
      for (const slot of slots) {
        if (this.aborted) break;
        await this.#runOne(slot, plan, sender, receiver);
      }
    } catch (error) {
      // Opening a side or the sink check failed (each run catches its own): no run of this attempt started.
      const described = describeError(error);
      if (!this.aborted) logger.error({ err: error }, 'job cannot run');
      for (const slot of slots) this.#failSlot(slot, described);
    } finally {
      await Promise.allSettled(opened.map((side) => side.close()));
    }
  }

  async #runOne(slot: Slot, plan: ReplicationPlan, sender: OpenedEndpoint, receiver: OpenedEndpoint): Promise<void> {
    const { job, logger } = this.#options;
    const run = slot.plan;
    // `filesystem` is for lines about one filesystem (the job runner's child loggers): a run is named by its root.
    const runLogger = logger.child({ root: run.source });
    delete slot.error;
    delete slot.summary;
    try {
      const destination = await destinationOf(plan.receiver, run.target, this.#options.hostname);
      const spec = jobSpecOf(job, plan, run, destination, this.#options.trigger === 'run' ? `zferry run ${job.name}` : undefined);
      const handle = startReplication(spec, {
        sender: sender.client,
        receiver: receiver.client,
        logger: runLogger,
        signal: this.#controller.signal,
        onProgress: (event) => {
          logProgress(runLogger, event);
          this.#options.onProgress?.(event);
        },
        ...(this.#options.estimateSizes === true ? { estimateSizes: true } : {}),
        ...(this.#options.now !== undefined ? { now: this.#options.now } : {}),
        ...(this.#bandwidth !== undefined ? { bandwidthBucket: this.#bandwidth } : {}),
      });
      slot.handle = handle;
      slot.summary = await handle.result;
      const failed = slot.summary.filesystems.filter((fs) => fs.outcome === 'failed').length;
      const log = failed > 0 ? runLogger.warn.bind(runLogger) : runLogger.info.bind(runLogger);
      log(
        {
          target: run.target,
          outcome: slot.summary.outcome,
          filesystems: slot.summary.filesystems.length,
          failed,
          bytes: slot.summary.bytes,
          durationMs: slot.summary.durationMs,
        },
        'replication run ended',
      );
      for (const warning of slot.summary.warnings) runLogger.warn(warning);
      if (slot.summary.outcome === 'ok' && job.pruning !== undefined) {
        const sides = runPruneSides(job, plan, run, destination, this.#options.listeners, false);
        await pruneOverRun(sides, { sender: sender.client, receiver: receiver.client }, runLogger, this.#controller.signal, this.#options.onPruned);
      }
    } catch (error) {
      if (this.aborted) {
        slot.error = { code: 'INTERRUPTED', message: errorMessage(this.#controller.signal.reason) };
        return;
      }
      const described = describeError(error);
      runLogger.error({ code: described.code, err: error }, 'replication run could not start');
      slot.error = described;
    }
  }

  /** An unconfined look at the sink's `root_fs`: the confined side would only say "outside the roots". */
  async #checkSinkRoot(sinkRoot: { sink: string; rootFs: string }): Promise<void> {
    const side = this.#options.opener.open({ kind: 'local', dataset: sinkRoot.rootFs });
    try {
      const listing = await side.client.listVersionTree({ root: sinkRoot.rootFs, recursive: false }, { signal: this.#controller.signal });
      if (!listing.exists) throw new SinkRootMissingError(sinkRoot.sink, sinkRoot.rootFs);
    } finally {
      await side.close();
    }
  }

  #failSlot(slot: Slot, error: { code: string; message: string }): void {
    delete slot.summary;
    slot.error = this.aborted ? { code: 'INTERRUPTED', message: errorMessage(this.#controller.signal.reason) } : error;
  }

  /** Waits `ms`; false when the invocation was stopped first. */
  #pause(ms: number): Promise<boolean> {
    const signal = this.#controller.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(true), ms);
      signal.addEventListener('abort', onAbort);
    });
  }

  #ended(extra: { error?: { code: string; message: string } }): InvocationResult {
    const summaries = this.#slots.flatMap((slot) => (slot.summary !== undefined ? [slot.summary] : []));
    const filesystems = summaries.flatMap((summary) => summary.filesystems);
    const runErrors = this.#slots.flatMap((slot) => (slot.error !== undefined ? [{ source: slot.plan.source, target: slot.plan.target, ...slot.error }] : []));
    const failed = extra.error !== undefined || runErrors.length > 0 || summaries.some((summary) => summary.outcome === 'failed');
    const outcome: InvocationOutcome = this.aborted ? 'interrupted' : failed ? 'failed' : 'ok';
    const error = extra.error ?? runErrors[0] ?? firstFailedFilesystem(filesystems);
    return {
      outcome,
      attempts: this.#attempts,
      startedAt: this.startedAt,
      endedAt: this.#clock(),
      summaries,
      filesystems,
      bytes: summaries.reduce((sum, summary) => sum + summary.bytes, 0),
      ...(error !== undefined && outcome !== 'ok' ? { error: { code: error.code, message: error.message } } : {}),
      runErrors: runErrors.map(({ source, target, code, message }) => ({ source, target, code, message })),
    };
  }
}

/** What the job runner is asked for one root: the job's name and policy, this root's paths and filter. */
export function jobSpecOf(job: PushJob | PullJob, plan: ReplicationPlan, run: RunPlan, destination: DestinationIdentity, command?: string): JobSpec {
  const { policy } = plan;
  const bandwidthLimit = jobBandwidthLimit(job);
  const sendFlags = enabledSendFlags({
    raw: policy.send.raw,
    compressed: policy.send.compressed,
    largeBlocks: policy.send.largeBlocks,
    embedded: policy.send.embeddedData,
  });
  return {
    name: job.name,
    ...(job.renamedFrom.length > 0 ? { formerNames: job.renamedFrom } : {}),
    destination: destination.canonical,
    formerDestinations: destination.legacy,
    source: run.source,
    target: run.target,
    recursive: run.recursive,
    filesystemFilter: run.selects,
    plan: {
      initial: policy.initialReplication === 'most_recent' ? 'most-recent' : policy.initialReplication,
      onDiverged: policy.onDiverged,
      batch: policy.batch,
      // Only the job's own snapshots (ownership.ts): not the ones made by hand (zrepl#403).
      ...ownedSnapshotGlobs(job),
    },
    ...(Object.keys(sendFlags).length > 0 ? { sendFlags } : {}),
    concurrency: policy.concurrency,
    dryRun: false,
    // Through this process, not zfs send straight into zfs recv: status shows each step's bytes
    // and rate, and a killed daemon takes its transfers along (the pipes close with it).
    directPipe: false,
    lock: { command: command ?? `zferry daemon (job ${job.name})` },
    ...(bandwidthLimit !== undefined ? { bandwidthLimit } : {}),
  };
}

/**
 * What paces a push or pull job's streams: a push its `send.bandwidth_limit`, a pull its
 * `recv.bandwidth_limit`; a job that sets both gets the lower (both bound the same bytes).
 */
export function jobBandwidthLimit(job: PushJob | PullJob): BandwidthLimit | undefined {
  const { send, recv } = job.replication.bandwidthLimit;
  return job.type === 'push' ? lowerLimit(send, recv) : lowerLimit(recv, send);
}

function logProgress(logger: Logger, event: ProgressEvent): void {
  if (event.type !== 'filesystem-done') return;
  const { result } = event;
  const fsLogger = logger.child({ filesystem: result.source });
  const fields = { target: result.target, outcome: result.outcome, steps: result.steps.length, bytes: result.bytes, durationMs: result.durationMs };
  // (The run's logger names the root; this line names the filesystem.)
  if (result.outcome === 'failed') fsLogger.error({ ...fields, code: result.error?.code, reason: result.error?.message }, 'filesystem failed');
  else if (result.outcome === 'replicated') fsLogger.info(fields, 'filesystem replicated');
  else fsLogger.debug(fields, `filesystem ${result.outcome}`);
}

/** One line for ZFERRY_SUMMARY: the run, its outcome, its counts, its first error. */
function runSummaryLine(slot: Slot, outcome: 'ok' | 'failed' | 'interrupted'): string {
  const head = `${slot.plan.source} -> ${slot.plan.target}: ${outcome}`;
  const summary = slot.summary;
  const error = slot.error ?? firstFailure(summary);
  const counts =
    summary === undefined
      ? ''
      : `; ${summary.filesystems.length} filesystems, ${summary.filesystems.filter((fs) => fs.outcome === 'failed').length} failed, ${summary.bytes} bytes`;
  return `${head}${counts}${error !== undefined ? `; ${error.code}: ${error.message}` : ''}`;
}

function transientFailure(slot: Slot, retryBusy: boolean): boolean {
  const worthIt = (code: string | undefined): boolean => isTransient(code) && (retryBusy || code !== 'TARGET_BUSY');
  if (slot.error !== undefined) return worthIt(slot.error.code);
  return slot.summary?.filesystems.some((fs) => fs.outcome === 'failed' && worthIt(fs.error?.code)) ?? false;
}

function firstFailure(summary: JobSummary | undefined): { code: string; message: string } | undefined {
  return summary === undefined ? undefined : firstFailedFilesystem(summary.filesystems);
}

function firstFailedFilesystem(filesystems: readonly FilesystemResult[]): { code: string; message: string } | undefined {
  const failed = filesystems.find((fs) => fs.outcome === 'failed' && fs.error !== undefined);
  return failed?.error === undefined ? undefined : { code: failed.error.code, message: `${failed.source}: ${failed.error.message}` };
}
