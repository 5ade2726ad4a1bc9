/**
 * Replicates one filesystem: read both sides' versions, plan, then carry the plan out step by
 * step, verifying after each step that the receiver holds exactly the snapshot that was sent.
 * The last step's check is left to the job, which makes it for every filesystem at once
 * (`unverified`): on zfs-fuse each `zfs get` costs the daemon, which all receives share.
 */

import { pipeline } from 'node:stream/promises';
import { errorCode, errorMessage } from '../../platform/errors.js';
import { RpcRemoteError } from '../../rpc/index.js';
import type { SendFlags } from '../contract.js';
import type { FilesystemVersion } from '../zfs/types.js';
import { describePlan, describeStep, planFilesystem, type FilesystemPlan, type Step } from '../planner/index.js';
import { countingStream } from './counting-stream.js';
import { StepVerificationError, UntrustedAnswerError } from './errors.js';
import type { FilesystemResult, ReplicationJob, StepResult } from './types.js';

export interface FilesystemTask {
  source: string;
  target: string;
  /**
   * Both sides' versions from the job's tree listing; absent when they may be stale (an
   * ancestor's target was renamed aside in this run), and then listed again.
   */
  known?: { sender: FilesystemVersion[]; receiver: FilesystemVersion[] | null; resumeToken?: string };
}

/** What the job needs back to move the replication cursors once everything is done. */
export interface FilesystemRun {
  result: FilesystemResult;
  /** The newest snapshot both sides now share (the next incremental base), if any. */
  base?: FilesystemVersion;
  /** The target was renamed aside: its children moved with it. */
  renamed?: boolean;
  /** The last step's snapshot as sent, received but not verified yet (the job verifies it). */
  unverified?: FilesystemVersion;
}

export async function runFilesystem(job: ReplicationJob, task: FilesystemTask): Promise<FilesystemRun> {
  const started = Date.now();
  const result: FilesystemResult = {
    source: task.source,
    target: task.target,
    outcome: 'failed',
    plan: [],
    steps: [],
    bytes: 0,
    durationMs: 0,
    actions: [],
  };
  const finish = (): FilesystemRun['result'] => {
    result.durationMs = Date.now() - started;
    result.bytes = result.steps.reduce((sum, step) => sum + step.bytes, 0);
    return result;
  };
  let planned: FilesystemPlan | undefined;
  try {
    if (job.signal?.aborted) throw job.signal.reason;
    const { sender, receiver, resumeToken } = task.known ?? (await listBoth(job, task));
    checkOwnership(task.source, sender, 'sender');
    if (receiver) checkOwnership(task.target, receiver, 'receiver');

    const input = { source: task.source, target: task.target, sender, receiver };
    const plan = planFilesystem(input, { ...job.plan, now: job.now });
    planned = plan;
    result.plan = describePlan(plan);
    let base: FilesystemVersion | undefined;
    const deferred: Deferred = {};
    try {
      base = await execute(job, plan, result, deferred, resumeToken);
    } catch (error) {
      // zfs-fuse cannot tell up front (no `written`) that the target was changed since its
      // newest snapshot; zfs recv says so. Nothing was received yet: plan again knowing it.
      if (!isTargetModified(error) || result.steps.length > 0) throw error;
      const replan = planFilesystem({ ...input, receiverModifiedSinceLatest: true }, { ...job.plan, now: job.now });
      planned = replan;
      result.plan = describePlan(replan);
      job.logger.info({ target: task.target }, 'target modified since its newest snapshot; planning again');
      base = await execute(job, replan, result, deferred);
    }
    finish();
    const run: FilesystemRun = { result };
    if (base) run.base = base;
    if (deferred.unverified) run.unverified = deferred.unverified;
    if (result.actions.some((action) => action.startsWith('renamed'))) run.renamed = true;
    return run;
  } catch (error) {
    // Whatever the abort made fail (zfs, the connection) failed because of it.
    result.outcome = job.signal?.aborted ? 'interrupted' : 'failed';
    result.error = job.signal?.aborted ? interruption(job, planned === undefined ? undefined : runningStep(planned, result)) : describeError(error);
    finish();
    return { result };
  }
}

/** The step a plan was at when it stopped (the first one not done), in words. */
function runningStep(plan: FilesystemPlan, result: FilesystemResult): string {
  const steps = plan.action === 'replicate' ? plan.steps : [];
  const step = steps[result.steps.length];
  return step === undefined ? 'between steps' : `during ${describeStep(step).replace(/\s+/g, ' ')} (step ${result.steps.length + 1} of ${steps.length})`;
}

/** Why a filesystem the job's signal stopped did not finish; `where` it was, if it had started. */
export function interruption(job: ReplicationJob, where: string | undefined): { code: string; message: string } {
  const reason = job.signal?.reason;
  const why = reason instanceof Error ? reason.message : 'interrupted';
  return { code: 'INTERRUPTED', message: `${why} ${where ?? 'before it started'}` };
}

async function listBoth(job: ReplicationJob, task: FilesystemTask): Promise<NonNullable<FilesystemTask['known']>> {
  const [senderAnswer, receiverAnswer] = await Promise.all([
    job.sender.listVersions({ filesystem: task.source }, signalOption(job)),
    job.receiver.listVersions({ filesystem: task.target }, signalOption(job)),
  ]);
  if (senderAnswer.versions === null) {
    throw new UntrustedAnswerError(`the sender listed ${task.source} but then reported it missing`);
  }
  const known: NonNullable<FilesystemTask['known']> = { sender: senderAnswer.versions, receiver: receiverAnswer.versions };
  if (receiverAnswer.resumeToken !== undefined) known.resumeToken = receiverAnswer.resumeToken;
  return known;
}

/** Where execute() leaves the last step's deferred check. */
interface Deferred {
  unverified?: FilesystemRun['unverified'];
}

async function execute(
  job: ReplicationJob,
  plan: FilesystemPlan,
  result: FilesystemResult,
  deferred: Deferred,
  resumeToken?: string,
): Promise<FilesystemVersion | undefined> {
  switch (plan.action) {
    case 'up-to-date':
      result.outcome = 'up-to-date';
      return plan.common.type === 'snapshot' ? plan.common : undefined;
    case 'skip':
      result.outcome = 'skipped';
      result.error = { code: plan.code, message: plan.reason };
      return undefined;
    case 'refuse':
      result.outcome = 'failed';
      result.error = { code: plan.error.code, message: plan.error.message };
      return undefined;
    case 'replicate':
      break;
  }
  if (job.dryRun) {
    result.outcome = 'planned';
    return undefined;
  }
  if (plan.renameTarget) {
    await job.receiver.rename({ from: plan.target, to: plan.renameTarget.to }, signalOption(job));
    result.actions.push(`renamed diverged ${plan.target} to ${plan.renameTarget.to}`);
  }
  if (plan.rollback) {
    await job.receiver.rollback(
      { snapshot: plan.rollback.to.fullName, expectedGuid: plan.rollback.to.guid },
      signalOption(job),
    );
    const destroyed = plan.rollback.destroys.map((v) => v.fullName);
    result.actions.push(
      `rolled ${plan.target} back to @${plan.rollback.to.name}` + (destroyed.length ? `, destroying ${destroyed.join(', ')}` : ''),
    );
  }
  let base = plan.common?.type === 'snapshot' ? plan.common : undefined;
  for (const [index, step] of plan.steps.entries()) {
    const force = index === 0 && plan.forceFullReceive === true;
    let stepResult: StepResult | undefined;
    if (index === 0 && resumeToken !== undefined && !plan.renameTarget && !plan.rollback) {
      stepResult = await resumeStep(job, plan, step, plan.steps.length, force, resumeToken);
    }
    const last = index === plan.steps.length - 1;
    stepResult ??= await runStep(job, plan, step, index, plan.steps.length, force, last ? { deferred } : {});
    result.steps.push(stepResult);
    base = step.to;
  }
  result.outcome = 'replicated';
  return base;
}

/** What the sender is asked to send (or estimate) for `step`. */
function sendRequest(job: ReplicationJob, step: Step): { snapshot: string; from?: string; intermediates: boolean; flags?: SendFlags } {
  return {
    snapshot: step.to.fullName,
    ...(step.from ? { from: step.from.fullName } : {}),
    intermediates: step.intermediates,
    ...(job.sendFlags !== undefined ? { flags: job.sendFlags } : {}),
  };
}

/**
 * Asks the sender how big the step's stream will be, alongside the transfer (never delaying
 * or failing it), and passes the answer to the progress display.
 */
function announceEstimate(job: ReplicationJob, filesystem: string, step: Step, index: number): void {
  job.sender.estimateSend(sendRequest(job, step), signalOption(job)).then(
    ({ bytes, approximate }) => {
      if (bytes !== null) job.onProgress?.({ type: 'estimate', filesystem, index, bytes, approximate });
    },
    (error: unknown) => job.logger.debug({ filesystem, err: error }, 'no size estimate for the progress display'),
  );
}

/**
 * An earlier run was interrupted while receiving into this target and the pool kept the
 * partial state: continue it from `receive_resume_token` instead of sending from zero. When
 * the token does not lead to this step's snapshot (or resuming fails for another reason than
 * the connection), the partial state is discarded and the step restarts (returns undefined).
 */
async function resumeStep(
  job: ReplicationJob,
  plan: FilesystemPlan & { action: 'replicate' },
  step: Step,
  total: number,
  force: boolean,
  resumeToken: string,
): Promise<StepResult | undefined> {
  try {
    const resumed = await runStep(job, plan, step, 0, total, force, { resumeToken });
    return { ...resumed, resumed: true };
  } catch (error) {
    const { code, message } = describeError(error);
    if (code.startsWith('RPC_CONNECTION') || job.signal?.aborted) throw error;
    job.logger.warn({ target: plan.target, code, message }, 'resuming the interrupted receive failed; discarding it and starting the step again');
    await job.receiver.abortPartialReceive({ filesystem: plan.target }, signalOption(job));
    return undefined;
  }
}

async function runStep(
  job: ReplicationJob,
  plan: FilesystemPlan & { action: 'replicate' },
  step: Step,
  index: number,
  total: number,
  force: boolean,
  /** `deferred`: set for the last step, whose check is left to the job. */
  { resumeToken, deferred }: { resumeToken?: string; deferred?: Deferred },
): Promise<StepResult> {
  const label = describeStep(step);
  const started = Date.now();
  job.onProgress?.({ type: 'step-start', filesystem: plan.source, step: label, index, total });
  job.logger.debug({ source: plan.source, target: plan.target, step: label }, 'step start');

  const { stream } = await job.sender.send(
    resumeToken !== undefined
      ? { snapshot: step.to.fullName, intermediates: false, resumeToken }
      : sendRequest(job, step),
    signalOption(job),
  );
  // Same host: the stream object goes to the receiver untouched and zfs send writes straight
  // into zfs recv. Otherwise the counter sits between the endpoints; pipeline() tears both
  // down if either fails.
  const counter = job.directPipe ? undefined : countingStream((bytes) => job.onProgress?.({ type: 'bytes', filesystem: plan.source, bytes }));
  if (counter && job.onProgress && resumeToken === undefined) announceEstimate(job, plan.source, step, index);
  const piped = counter ? pipeline(stream, counter).catch(() => undefined) : Promise.resolve();
  const received = await job.receiver.receive(
    {
      target: plan.target,
      snapshotName: step.to.name,
      expectedGuid: step.to.guid,
      ...(step.from ? { incrementalBase: { guid: step.from.guid } } : {}),
      force,
      // -s where the pool supports it: an interrupted transfer can then be resumed.
      resumable: true,
      // Planned from this run's listing of the target, and every earlier step was verified.
      targetChecked: true,
      ...(deferred ? { deferVerification: true } : {}),
    },
    counter ?? stream,
    signalOption(job),
  );
  await piped;
  if (received.version === undefined) {
    if (!deferred) throw new StepVerificationError(`the receiver did not report what it received after ${step.to.fullName}`);
    deferred.unverified = step.to;
  } else {
    checkReceived(received.version, plan.target, step.to);
  }
  const approximate = counter === undefined;
  const bytes = counter?.total ?? received.streamBytes ?? 0;
  const durationMs = Date.now() - started;
  job.onProgress?.({ type: 'step-done', filesystem: plan.source, step: label, bytes, durationMs });
  return {
    kind: step.from ? 'incremental' : 'full',
    ...(step.from ? { from: step.from.fullName } : {}),
    to: step.to.fullName,
    guid: step.to.guid,
    intermediates: step.intermediates,
    bytes,
    ...(approximate ? { bytesApproximate: true as const } : {}),
    durationMs,
  };
}

/** The receiver holds exactly the snapshot that was sent: its name in the target, its guid. */
export function checkReceived(version: FilesystemVersion, target: string, sent: FilesystemVersion): void {
  if (version.guid !== sent.guid || version.name !== sent.name || version.filesystem !== target) {
    throw new StepVerificationError(`receiver reports ${version.fullName} (guid ${version.guid}) after sending ${sent.fullName} (guid ${sent.guid})`);
  }
}

function isTargetModified(error: unknown): boolean {
  const { code } = describeError(error);
  return code === 'ZFS_TARGET_MODIFIED';
}

/** A remote must only report versions of the filesystem it was asked about. */
function checkOwnership(filesystem: string, versions: readonly FilesystemVersion[], side: string): void {
  for (const version of versions) {
    if (version.filesystem !== filesystem) {
      throw new UntrustedAnswerError(`the ${side} answered ${version.fullName} when asked for versions of ${filesystem}; refusing`);
    }
  }
}

export function signalOption(job: ReplicationJob): { signal?: AbortSignal } {
  return job.signal ? { signal: job.signal } : {};
}

/** `{code, message}` of any error, preferring the remote's own code when an RPC carried it. */
export function describeError(error: unknown): { code: string; message: string } {
  const remoteCode = error instanceof RpcRemoteError ? error.remoteCode : undefined;
  return { code: remoteCode ?? errorCode(error) ?? 'ERROR', message: errorMessage(error) };
}
