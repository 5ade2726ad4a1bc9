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
import { localIdentity, resolveSshIdentity, type DestinationIdentity } from '../replication/endpoint/identity.js';
import type { EndpointOpener, OpenedEndpoint } from '../replication/endpoint/open.js';
import type { EndpointSpec } from '../replication/endpoint/spec.js';
import { describeError } from '../replication/job/errors.js';
import { startReplication } from '../replication/job/run-job.js';
import type { FilesystemResult, FilesystemStatus, JobSpec, JobSummary, ProgressEvent, ReplicationHandle } from '../replication/job/types.js';
import { errorMessage } from '../platform/errors.js';
import { JobDefinitionError, SinkRootMissingError } from './errors.js';
import { planReplication, type Listeners, type ReplicationPlan, type RunPlan } from './job-plan.js';
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

  constructor(options: InvocationOptions) {
    this.#options = options;
    this.trigger = options.trigger;
    this.#clock = options.now ?? Date.now;
    this.startedAt = this.#clock();
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
    this.#slots = plan.runs.map((run) => ({ plan: run }));
    // A push snapshots first (snapshot → replicate), once: a retry replicates what is there.
    if (job.type === 'push' && job.snapshotting.type !== 'manual') {
      try {
        await takeSnapshots({
          job: job.name,
          filesystems: job.filesystems,
          snapshotting: job.snapshotting,
          opener: this.#options.opener,
          logger,
          at: new Date(this.startedAt),
          signal: this.#controller.signal,
        });
      } catch (error) {
        if (!this.aborted) logger.error({ err: error }, 'snapshotting failed: nothing replicated');
        return this.#ended({ error: this.aborted ? { code: 'INTERRUPTED', message: errorMessage(this.#controller.signal.reason) } : describeError(error) });
      }
    }
    const maxAttempts = Math.max(1, this.#options.maxAttempts ?? 3);
    let pending = this.#slots;
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
    return this.#ended({});
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
        onProgress: (event) => logProgress(runLogger, event),
        ...(this.#options.estimateSizes === true ? { estimateSizes: true } : {}),
        ...(this.#options.now !== undefined ? { now: this.#options.now } : {}),
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
      include: policy.snapshots.include,
      exclude: policy.snapshots.exclude,
    },
    ...(Object.keys(sendFlags).length > 0 ? { sendFlags } : {}),
    concurrency: policy.concurrency,
    dryRun: false,
    // Through this process, not zfs send straight into zfs recv: status shows each step's bytes
    // and rate, and a killed daemon takes its transfers along (the pipes close with it).
    directPipe: false,
    lock: { command: command ?? `zferry daemon (job ${job.name})` },
  };
}

/** The receiving side named as a destination for `target` (what the cursor tags derive from). */
async function destinationOf(spec: EndpointSpec, target: string, hostname: string): Promise<DestinationIdentity> {
  switch (spec.kind) {
    case 'local':
      return localIdentity(hostname, target);
    case 'ssh':
      return resolveSshIdentity({ ...spec, dataset: target });
    default:
      throw new JobDefinitionError('?', `endpoint kind ${spec.kind} is not served yet`);
  }
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
