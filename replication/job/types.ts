import type { Logger } from 'pino';
import type { Client } from '../../rpc/index.js';
import type { EndpointContract, SendFlags } from '../contract.js';
import type { PlanOptions } from '../planner/index.js';
import type { BandwidthLimit } from '../throttle/limit.js';
import type { TokenBucket } from '../throttle/token-bucket.js';

export type EndpointClient = Client<EndpointContract>;

/**
 * What to replicate and how: what a command line or a daemon's job definition says. Where the
 * run's endpoints, logs and signal come from is its JobRuntime.
 */
export interface JobSpec {
  /** Names the job in hold tags and properties (with the destination). */
  name: string;
  source: string;
  target: string;
  recursive: boolean;
  plan: Omit<PlanOptions, 'now'>;
  /** `zfs send` stream options for every step (a resumed step keeps its token's). */
  sendFlags?: SendFlags;
  /** Filesystems replicated at once. */
  concurrency: number;
  dryRun: boolean;
  /** Take this snapshot (short name) of the source first, atomically across the tree. */
  snapshotName?: string;
  /** Identifies the destination (host and target) for the cursor tag: its canonical name (endpoint/identity.ts). */
  destination: string;
  /** Names earlier versions gave the destination: cursors recorded under them are taken over. */
  formerDestinations?: readonly string[];
  /** Names the job had before (a daemon job renamed with `renamed_from`): cursors tagged with them are taken over. */
  formerNames?: readonly string[];
  /**
   * Which filesystems of the source tree to replicate (a daemon job's `filesystems` filter);
   * all when unset. A selected filesystem whose parent is not selected gets its target's
   * missing parents created, as the target root's are.
   */
  filesystemFilter?: (filesystem: string) => boolean;
  /**
   * Both endpoints live in this process: let zfs send write straight into zfs recv, as a shell
   * pipe would, instead of passing every byte through here. Step sizes then come from
   * `zfs recv -v` (rounded) and a running step's bytes are not known.
   */
  directPipe?: boolean;
  /**
   * The run's lock on its target (target-lock.ts): how long to wait for another run into it
   * (default 5 s; 0 tries once), and what this run tells one that finds the target busy.
   */
  lock?: { waitMs?: number; command?: string };
  /**
   * Paces the snapshot bytes between sender and receiver (`--bwlimit`, a job's
   * `bandwidth_limit`): one bucket for every filesystem of the run. Turns `directPipe` off: the
   * bytes must pass through here to be paced.
   */
  bandwidthLimit?: BandwidthLimit;
}

/** What one run works with: its endpoints, where it logs and reports, what stops it. */
export interface JobRuntime {
  sender: EndpointClient;
  receiver: EndpointClient;
  logger: Logger;
  /** Stops the run: it still ends with a summary (outcome `interrupted`). */
  signal?: AbortSignal;
  /** Told each change as it happens; the handle's status() holds the same state, to read at any time. */
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Ask the sender for each step's stream size, beside the transfer, for a live display's share
   * done and time left (`estimate` in the status). One call per step: runs that nobody watches
   * leave it off.
   */
  estimateSizes?: boolean;
  /** The clock, in ms since the epoch (Date.now unless given): the run's start, durations, rates. */
  now?: () => number;
  /**
   * The bucket that paces the run's streams, shared with other runs (a daemon invocation's
   * roots): used instead of a fresh one from the spec's `bandwidthLimit`.
   */
  bandwidthBucket?: TokenBucket;
}

/** A started run: where it stands now, and its summary once it ends. */
export interface ReplicationHandle {
  /** A fresh snapshot of the run's live state at each call. */
  status(): JobStatus;
  /**
   * The summary once the run ends (also when it was interrupted). Rejects only when the run
   * could not start replicating: the source missing, a side unreachable, a refused placement.
   */
  readonly result: Promise<JobSummary>;
}

/**
 * `preparing`: snapshot, listings, placement; `replicating`: the filesystems run;
 * `finishing`: the last steps are checked and the cursors moved. Then how it ended.
 */
export type JobState = 'preparing' | 'replicating' | 'finishing' | 'done' | 'failed' | 'interrupted';

export interface JobStatus {
  source: string;
  target: string;
  state: JobState;
  /** When the run started (ms since the epoch, the runtime's clock). */
  startedAt: number;
  /** Bytes sent so far, every filesystem's steps done and running. */
  bytes: number;
  /** Every filesystem the run mapped (none while preparing), parents before children. */
  filesystems: FilesystemStatus[];
  /** Why the run stopped before replicating (result rejects with it). */
  error?: { code: string; message: string };
}

/**
 * `pending`: waits for its parent or a free slot; `verifying`: its last step is received and
 * waits for the job's check; `done`: replicated, up to date, or planned (dry run).
 */
export type FilesystemState = 'pending' | 'running' | 'verifying' | 'done' | 'skipped' | 'failed' | 'interrupted';

export interface FilesystemStatus {
  source: string;
  target: string;
  state: FilesystemState;
  /** The planned steps in words (empty until planned, and when there is nothing to send). */
  steps: string[];
  /** How many steps are done: `steps[stepsDone]` runs next. */
  stepsDone: number;
  /** The step running now. */
  current?: RunningStepStatus;
  /** Bytes sent, steps done and running. */
  bytes: number;
  /** Bytes per second over the last few seconds (0 when nothing runs). */
  rate: number;
  /** Once it ended (see FilesystemResult). */
  outcome?: FilesystemOutcome;
  error?: { code: string; message: string };
  /** Once the run is over: the newest snapshot both sides share (the next incremental base), if any. */
  base?: SharedBase;
}

/** A snapshot on both sides of a filesystem's replication. */
export interface SharedBase {
  /** Its short name (after the `@`). */
  snapshot: string;
  guid: string;
  /** Creation time, seconds since the epoch. */
  creation: number;
}

export interface RunningStepStatus {
  index: number;
  /** The step in words, as in `steps`. */
  name: string;
  /** Bytes through this process so far (0 throughout with `directPipe`). */
  bytes: number;
  startedAt: number;
  /** The stream's size, where the sender could tell (`approximate`: from the snapshot's size). */
  estimate?: { bytes: number; approximate: boolean };
}

/** What the runtime's `onProgress` is told: the changes the handle's status shows. */
export type ProgressEvent =
  | { type: 'step-start'; filesystem: string; step: string; index: number; total: number }
  | { type: 'bytes'; filesystem: string; bytes: number }
  /** The size of the running step's stream, where the sender could tell (`approximate`: from the snapshot's size). */
  | { type: 'estimate'; filesystem: string; index: number; bytes: number; approximate: boolean }
  | { type: 'step-done'; filesystem: string; step: string; bytes: number; durationMs: number }
  /** A filesystem that ran has ended (once its last step is checked). */
  | { type: 'filesystem-done'; result: FilesystemResult };

/** `interrupted`: the job's signal stopped it (or it never started); its error says so (INTERRUPTED). */
export type FilesystemOutcome = 'replicated' | 'up-to-date' | 'skipped' | 'planned' | 'failed' | 'interrupted';

export interface StepResult {
  kind: 'full' | 'incremental';
  from?: string;
  to: string;
  guid: string;
  intermediates: boolean;
  bytes: number;
  durationMs: number;
  /** Continued from an interrupted receive's resume token. */
  resumed?: boolean;
  /** `bytes` is the size zfs recv reported (rounded to three digits): the stream went straight from zfs send into zfs recv. */
  bytesApproximate?: true;
}

export interface FilesystemResult {
  source: string;
  target: string;
  outcome: FilesystemOutcome;
  /** The plan in words (what `--dry-run` prints). */
  plan: string[];
  steps: StepResult[];
  bytes: number;
  durationMs: number;
  /** Diverged target renamed aside / rolled back: what happened to it. */
  actions: string[];
  error?: { code: string; message: string };
}

export interface JobSummary {
  source: string;
  target: string;
  dryRun: boolean;
  /**
   * ok: every filesystem succeeded; failed: at least one failed (the others still ran);
   * interrupted: the job's signal fired, and what had not finished was stopped.
   */
  outcome: 'ok' | 'failed' | 'interrupted';
  snapshot?: string;
  filesystems: FilesystemResult[];
  /** Target filesystems whose source no longer exists (reported, never destroyed). */
  orphanedTargets: string[];
  bytes: number;
  durationMs: number;
  warnings: string[];
}
