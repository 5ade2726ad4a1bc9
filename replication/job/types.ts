import type { Logger } from 'pino';
import type { Client } from '../../rpc/index.js';
import type { EndpointContract, SendFlags } from '../contract.js';
import type { PlanOptions } from '../planner/index.js';

export type EndpointClient = Client<EndpointContract>;

/** One run of a push or pull: a source tree on the sender replicated to the receiver. */
export interface ReplicationJob {
  /** Names the job in hold tags and properties (with the destination). */
  name: string;
  /** Identifies the destination (host and target) for the cursor tag: its canonical name (endpoint/identity.ts). */
  destination: string;
  /** Names earlier versions gave the destination: cursors recorded under them are taken over. */
  formerDestinations?: readonly string[];
  sender: EndpointClient;
  receiver: EndpointClient;
  source: string;
  target: string;
  recursive: boolean;
  plan: Omit<PlanOptions, 'now'>;
  /** Filesystems replicated at once. */
  concurrency: number;
  dryRun: boolean;
  /** `zfs send` stream options for every step (a resumed step keeps its token's). */
  sendFlags?: SendFlags;
  /** Take this snapshot (short name) of the source first, atomically across the tree. */
  snapshotName?: string;
  now: Date;
  logger: Logger;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
  /**
   * Both endpoints live in this process: let zfs send write straight into zfs recv, as a shell
   * pipe would, instead of passing every byte through here. Step sizes then come from
   * `zfs recv -v` (rounded) and there are no byte progress events.
   */
  directPipe?: boolean;
}

export type ProgressEvent =
  | { type: 'step-start'; filesystem: string; step: string; index: number; total: number }
  | { type: 'bytes'; filesystem: string; bytes: number }
  /** The size of the running step's stream, where the sender could tell (`approximate`: from the snapshot's size). */
  | { type: 'estimate'; filesystem: string; index: number; bytes: number; approximate: boolean }
  | { type: 'step-done'; filesystem: string; step: string; bytes: number; durationMs: number }
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
