/**
 * Replicates one filesystem: read both sides' versions, plan, then carry the plan out step by
 * step, verifying after each step that the receiver holds exactly the snapshot that was sent.
 * The last step's check is left to the job, which makes it for every filesystem at once
 * (`unverified`): on zfs-fuse each `zfs get` costs the daemon, which all receives share.
 */
import { describePlan, describeStep, planFilesystem, type FilesystemPlan, type PlanInput } from '../planner/index.js';
import type { FilesystemVersion } from '../zfs/types.js';
import { interruption, type StepContext } from './context.js';
import { UntrustedAnswerError, describeError } from './errors.js';
import type { FilesystemProgress } from './status.js';
import { resumeStep, runStep } from './run-step.js';
import type { FilesystemOutcome } from './types.js';

/** Both sides' versions of one filesystem (and the target's resume token, if a receive was cut short). */
export interface KnownVersions {
  sender: FilesystemVersion[];
  receiver: FilesystemVersion[] | null;
  resumeToken?: string;
}

/** What the job needs of a filesystem's run once all have run: to check the last steps, to move the cursors. */
export interface FilesystemRun {
  readonly status: FilesystemProgress;
  /** The newest snapshot both sides now share (the next incremental base), if any. */
  base?: FilesystemVersion;
  /** The target was renamed aside: its children moved with it. */
  renamed?: boolean;
  /** The last step's snapshot as sent, received but not verified yet (the job verifies it). */
  unverified?: FilesystemVersion;
}

/** How carrying out a plan ended (it throws when a step fails). */
interface Execution {
  outcome: FilesystemOutcome;
  error?: { code: string; message: string };
  base?: FilesystemVersion;
  renamed?: true;
  unverified?: FilesystemVersion;
}

/**
 * Runs the filesystem of `ctx`; `known`: its versions from the job's tree listing, absent when
 * they may be stale (an ancestor's target was renamed aside in this run) and listed again.
 */
export async function runFilesystem(ctx: StepContext, known: KnownVersions | undefined): Promise<FilesystemRun> {
  ctx.status.started();
  try {
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    const { outcome, error, ...run } = await planAndExecute(ctx, known ?? (await listBoth(ctx)));
    ctx.status.ended({ outcome, error, awaitingCheck: run.unverified !== undefined });
    return { status: ctx.status, ...run };
  } catch (error) {
    // Whatever the abort made fail (zfs, the connection) failed because of it.
    const aborted = ctx.signal?.aborted === true;
    ctx.status.ended(
      aborted ? { outcome: 'interrupted', error: interruption(ctx, whereStopped(ctx.status)) } : { outcome: 'failed', error: describeError(error) },
    );
    return { status: ctx.status };
  }
}

async function planAndExecute(ctx: StepContext, { sender, receiver, resumeToken }: KnownVersions): Promise<Execution> {
  checkOwnership(ctx.mapping.source, sender, 'sender');
  if (receiver) checkOwnership(ctx.mapping.target, receiver, 'receiver');
  const input: PlanInput = { ...ctx.mapping, sender, receiver };
  try {
    return await execute(ctx, plan(ctx, input), resumeToken);
  } catch (error) {
    // zfs-fuse cannot tell up front (no `written`) that the target was changed since its
    // newest snapshot; zfs recv says so. Nothing was received yet: plan again knowing it.
    if (describeError(error).code !== 'ZFS_TARGET_MODIFIED' || ctx.status.stepsDone > 0) throw error;
    const replan = plan(ctx, { ...input, receiverModifiedSinceLatest: true });
    ctx.logger.info({ target: ctx.mapping.target }, 'target modified since its newest snapshot; planning again');
    return execute(ctx, replan);
  }
}

function plan(ctx: StepContext, input: PlanInput): FilesystemPlan {
  const planned = planFilesystem(input, { ...ctx.spec.plan, now: ctx.startedAt });
  ctx.status.planned(describePlan(planned), planned.action === 'replicate' ? planned.steps.map(describeStep) : []);
  return planned;
}

/** Where a stopped filesystem was, in words; undefined before it was planned. */
function whereStopped(status: FilesystemProgress): string | undefined {
  const steps = status.plannedSteps;
  if (steps === undefined) return undefined;
  const step = steps[status.stepsDone];
  return step === undefined ? 'between steps' : `during ${step.replace(/\s+/g, ' ')} (step ${status.stepsDone + 1} of ${steps.length})`;
}

async function listBoth(ctx: StepContext): Promise<KnownVersions> {
  const [senderAnswer, receiverAnswer] = await Promise.all([
    ctx.sender.listVersions({ filesystem: ctx.mapping.source }, ctx.call),
    ctx.receiver.listVersions({ filesystem: ctx.mapping.target }, ctx.call),
  ]);
  if (senderAnswer.versions === null) {
    throw new UntrustedAnswerError(`the sender listed ${ctx.mapping.source} but then reported it missing`);
  }
  return {
    sender: senderAnswer.versions,
    receiver: receiverAnswer.versions,
    ...(receiverAnswer.resumeToken !== undefined ? { resumeToken: receiverAnswer.resumeToken } : {}),
  };
}

async function execute(ctx: StepContext, plan: FilesystemPlan, resumeToken?: string): Promise<Execution> {
  switch (plan.action) {
    case 'up-to-date':
      return { outcome: 'up-to-date', ...(plan.common.type === 'snapshot' ? { base: plan.common } : {}) };
    case 'skip':
      return { outcome: 'skipped', error: { code: plan.code, message: plan.reason } };
    case 'refuse':
      return { outcome: 'failed', error: { code: plan.error.code, message: plan.error.message } };
    case 'replicate':
      break;
  }
  if (ctx.spec.dryRun) return { outcome: 'planned' };
  if (plan.renameTarget) {
    await ctx.receiver.rename({ from: plan.target, to: plan.renameTarget.to }, ctx.call);
    ctx.status.acted(`renamed diverged ${plan.target} to ${plan.renameTarget.to}`);
  }
  if (plan.rollback) {
    await ctx.receiver.rollback({ snapshot: plan.rollback.to.fullName, expectedGuid: plan.rollback.to.guid }, ctx.call);
    const destroyed = plan.rollback.destroys.map((v) => v.fullName);
    ctx.status.acted(`rolled ${plan.target} back to @${plan.rollback.to.name}` + (destroyed.length ? `, destroying ${destroyed.join(', ')}` : ''));
  }
  let base = plan.common?.type === 'snapshot' ? plan.common : undefined;
  let unverified: FilesystemVersion | undefined;
  for (const [index, step] of plan.steps.entries()) {
    const task = { step, index, force: index === 0 && plan.forceFullReceive === true };
    const resumable = index === 0 && resumeToken !== undefined && !plan.renameTarget && !plan.rollback;
    const resumed = resumable ? await resumeStep(ctx, { ...task, resumeToken }) : undefined;
    if (resumed !== undefined) {
      ctx.status.stepDone(resumed);
    } else {
      const sent = await runStep(ctx, { ...task, deferCheck: index === plan.steps.length - 1 });
      ctx.status.stepDone(sent.result);
      if (sent.unchecked) unverified = step.to;
    }
    base = step.to;
  }
  return { outcome: 'replicated', ...(base ? { base } : {}), ...(plan.renameTarget ? { renamed: true as const } : {}), ...(unverified ? { unverified } : {}) };
}

/** A remote must only report versions of the filesystem it was asked about. */
function checkOwnership(filesystem: string, versions: readonly FilesystemVersion[], side: string): void {
  for (const version of versions) {
    if (version.filesystem !== filesystem) {
      throw new UntrustedAnswerError(`the ${side} answered ${version.fullName} when asked for versions of ${filesystem}; refusing`);
    }
  }
}
