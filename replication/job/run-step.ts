/**
 * One step of a filesystem's plan: `zfs send` on the sender streamed into `zfs recv` on the
 * receiver, then checked: the receiver must hold exactly the snapshot that was sent.
 */
import { pipeline } from 'node:stream/promises';
import type { SendFlags } from '../contract.js';
import { describeStep, type Step } from '../planner/index.js';
import { throttleTransform } from '../throttle/throttled-stream.js';
import type { FilesystemVersion } from '../zfs/types.js';
import type { StepContext } from './context.js';
import { countingStream } from './counting-stream.js';
import { StepVerificationError, describeError } from './errors.js';
import type { JobSpec, StepResult } from './types.js';

/** A step of the plan, and how to run it. */
export interface StepTask {
  step: Step;
  index: number;
  /** `zfs recv -F`: the first step into an existing target that holds no data. */
  force: boolean;
  /** Continue an interrupted receive from its token instead of sending from zero. */
  resumeToken?: string;
  /** The plan's last step: its check is left to the job, which checks every filesystem's at once. */
  deferCheck?: boolean;
}

export interface SentStep {
  result: StepResult;
  /** Received but not checked yet (`deferCheck`, and the receiver left the check to the job). */
  unchecked: boolean;
}

export async function runStep(ctx: StepContext, task: StepTask): Promise<SentStep> {
  const { step, index, resumeToken, deferCheck = false } = task;
  const { source, target } = ctx.mapping;
  const started = ctx.clock();
  ctx.status.stepStarted(index);
  ctx.logger.debug({ source, target, step: describeStep(step) }, 'step start');

  const { stream } = await ctx.sender.send(
    resumeToken !== undefined ? { snapshot: step.to.fullName, intermediates: false, resumeToken } : sendRequest(ctx.spec, step),
    ctx.call,
  );
  // Same host: the stream object goes to the receiver untouched and zfs send writes straight
  // into zfs recv. Otherwise the counter sits between the endpoints, behind the bandwidth limit
  // if there is one (here, so the pace is the same whatever carries the stream); pipeline()
  // tears them all down if either side fails.
  const counter = ctx.spec.directPipe && ctx.bandwidth === undefined ? undefined : countingStream((bytes) => ctx.status.sent(bytes));
  if (counter && ctx.estimateSizes && resumeToken === undefined) announceEstimate(ctx, step, index);
  const throttle = ctx.bandwidth !== undefined ? throttleTransform(ctx.bandwidth) : undefined;
  const piped = !counter ? Promise.resolve() : (throttle ? pipeline(stream, throttle, counter) : pipeline(stream, counter)).catch(() => undefined);
  const received = await ctx.receiver.receive(
    {
      target,
      snapshotName: step.to.name,
      expectedGuid: step.to.guid,
      ...(step.from ? { incrementalBase: { guid: step.from.guid } } : {}),
      force: task.force,
      // -s where the pool supports it: an interrupted transfer can then be resumed.
      resumable: true,
      // Planned from this run's listing of the target, and every earlier step was verified.
      targetChecked: true,
      ...(deferCheck ? { deferVerification: true } : {}),
    },
    counter ?? stream,
    ctx.call,
  );
  await piped;
  if (received.version !== undefined) {
    checkReceived(received.version, target, step.to);
  } else if (!deferCheck) {
    throw new StepVerificationError(`the receiver did not report what it received after ${step.to.fullName}`);
  }
  const approximate = counter === undefined;
  return {
    result: {
      kind: step.from ? 'incremental' : 'full',
      ...(step.from ? { from: step.from.fullName } : {}),
      to: step.to.fullName,
      guid: step.to.guid,
      intermediates: step.intermediates,
      bytes: counter?.total ?? received.streamBytes ?? 0,
      ...(approximate ? { bytesApproximate: true as const } : {}),
      durationMs: ctx.clock() - started,
    },
    unchecked: received.version === undefined,
  };
}

/**
 * An earlier run was interrupted while receiving into this target and the pool kept the
 * partial state: continue it from `receive_resume_token` instead of sending from zero. When
 * the token does not lead to this step's snapshot (or resuming fails for another reason than
 * the connection), the partial state is discarded and the step restarts (returns undefined).
 */
export async function resumeStep(ctx: StepContext, task: StepTask & { resumeToken: string }): Promise<StepResult | undefined> {
  try {
    const { result } = await runStep(ctx, task);
    return { ...result, resumed: true };
  } catch (error) {
    const { code, message } = describeError(error);
    if (code.startsWith('RPC_CONNECTION') || ctx.signal?.aborted) throw error;
    ctx.logger.warn({ target: ctx.mapping.target, code, message }, 'resuming the interrupted receive failed; discarding it and starting the step again');
    await ctx.receiver.abortPartialReceive({ filesystem: ctx.mapping.target }, ctx.call);
    return undefined;
  }
}

/** The receiver holds exactly the snapshot that was sent: its name in the target, its guid. */
export function checkReceived(version: FilesystemVersion, target: string, sent: FilesystemVersion): void {
  if (version.guid !== sent.guid || version.name !== sent.name || version.filesystem !== target) {
    throw new StepVerificationError(`receiver reports ${version.fullName} (guid ${version.guid}) after sending ${sent.fullName} (guid ${sent.guid})`);
  }
}

/** What the sender is asked to send (or estimate) for `step`. */
function sendRequest(spec: JobSpec, step: Step): { snapshot: string; from?: string; intermediates: boolean; flags?: SendFlags } {
  return {
    snapshot: step.to.fullName,
    ...(step.from ? { from: step.from.fullName } : {}),
    intermediates: step.intermediates,
    ...(spec.sendFlags !== undefined ? { flags: spec.sendFlags } : {}),
  };
}

/**
 * Asks the sender how big the step's stream will be, alongside the transfer (never delaying
 * or failing it), for the live status.
 */
function announceEstimate(ctx: StepContext, step: Step, index: number): void {
  ctx.sender.estimateSend(sendRequest(ctx.spec, step), ctx.call).then(
    ({ bytes, approximate }) => {
      if (bytes !== null) ctx.status.estimated(index, bytes, approximate);
    },
    (error: unknown) => ctx.logger.debug({ filesystem: ctx.mapping.source, err: error }, 'no size estimate for the progress display'),
  );
}
