/**
 * What the parts of one run work with, gathered once: the job's spec, its runtime, its live
 * status, and (per filesystem) which filesystem and its status record.
 */
import type { Logger } from 'pino';
import type { FilesystemMapping } from '../planner/index.js';
import { createSharedBucket } from '../throttle/throttled-stream.js';
import type { TokenBucket } from '../throttle/token-bucket.js';
import { JobProgress, type FilesystemProgress } from './status.js';
import type { EndpointClient, JobRuntime, JobSpec } from './types.js';

export interface RunContext {
  readonly spec: JobSpec;
  readonly sender: EndpointClient;
  readonly receiver: EndpointClient;
  readonly logger: Logger;
  readonly signal: AbortSignal | undefined;
  /** The options of every endpoint call the run's signal stops. */
  readonly call: { signal?: AbortSignal };
  readonly estimateSizes: boolean;
  readonly clock: () => number;
  /** When the run started: the planner names a target renamed aside after it. */
  readonly startedAt: Date;
  readonly progress: JobProgress;
  /** Paces every step's stream of the run (`spec.bandwidthLimit`), all filesystems on one bucket. */
  readonly bandwidth: TokenBucket | undefined;
}

/** One filesystem's run: the run's context, which filesystem, and its live status record. */
export interface StepContext extends RunContext {
  readonly mapping: FilesystemMapping;
  readonly status: FilesystemProgress;
}

export function runContextOf(spec: JobSpec, runtime: JobRuntime): RunContext {
  const clock = runtime.now ?? Date.now;
  const progress = new JobProgress({ source: spec.source, target: spec.target }, clock, runtime.onProgress);
  return {
    spec,
    sender: runtime.sender,
    receiver: runtime.receiver,
    logger: runtime.logger,
    signal: runtime.signal,
    call: runtime.signal !== undefined ? { signal: runtime.signal } : {},
    estimateSizes: runtime.estimateSizes === true,
    clock,
    startedAt: new Date(progress.startedAt),
    progress,
    bandwidth: runtime.bandwidthBucket ?? (spec.bandwidthLimit !== undefined ? createSharedBucket(spec.bandwidthLimit) : undefined),
  };
}

/** The context of one mapped filesystem, pending until it runs; its log lines name it. */
export function stepContextOf(run: RunContext, mapping: FilesystemMapping): StepContext {
  return { ...run, logger: run.logger.child({ filesystem: mapping.source }), mapping, status: run.progress.track(mapping) };
}

/** Why a filesystem the run's signal stopped did not finish; `where` it was, if it had started. */
export function interruption(run: RunContext, where: string | undefined): { code: string; message: string } {
  const reason: unknown = run.signal?.reason;
  const why = reason instanceof Error ? reason.message : 'interrupted';
  return { code: 'INTERRUPTED', message: `${why} ${where ?? 'before it started'}` };
}
