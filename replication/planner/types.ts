import type { FilesystemVersion } from '../zfs/types.js';
import type { PlanError } from './errors.js';

/** What to do when the target has no snapshot in common with the source (it is new or empty). */
export type InitialPolicy = 'all' | 'most-recent' | 'fail';
/** What to do when the target has moved on past the newest common snapshot. */
export type DivergedPolicy = 'fail' | 'rollback' | 'rename';

export interface PlanOptions {
  /** Default 'all': send every selected snapshot, oldest first. */
  initial: InitialPolicy;
  /** Default 'fail': refuse and explain. */
  onDiverged: DivergedPolicy;
  /** One `send -I` step per run of consecutive selected snapshots instead of one `-i` per snapshot. */
  batch: boolean;
  /** Globs on snapshot short names to send; absent or empty = all. */
  include?: readonly string[] | undefined;
  /** Globs on snapshot short names never to send; wins over include. */
  exclude?: readonly string[] | undefined;
  /**
   * The time that names a target renamed aside (`<target>-diverged-<UTC time>`). Required with
   * onDiverged 'rename': the planner is pure and never reads the clock.
   */
  now?: Date | undefined;
}

/** Everything known about one source filesystem and its target. */
export interface PlanInput {
  /** The source filesystem, e.g. `tank/data`. */
  source: string;
  /** The target filesystem, e.g. `backup/data`. */
  target: string;
  /** Snapshots and bookmarks of the source, in any order. */
  sender: readonly FilesystemVersion[];
  /** Snapshots (bookmarks are ignored for matching) of the target, in any order; null = the target does not exist. */
  receiver: readonly FilesystemVersion[] | null;
  /**
   * The target's `written` > 0 since its newest snapshot; undefined when unknown (e.g. zfs-fuse).
   * Ignored for a target without snapshots: its `written` counts everything and is never 0.
   */
  receiverModifiedSinceLatest?: boolean | undefined;
}

/** One `zfs send | zfs recv`. */
export interface Step {
  /** Incremental base on the source (a snapshot, or a bookmark for a plain `-i`); absent = full send. */
  from?: FilesystemVersion;
  /** The source snapshot sent; always a snapshot. */
  to: FilesystemVersion;
  /** `send -I`: the stream also carries every source snapshot between `from` and `to`. */
  intermediates: boolean;
  /** The source snapshots this step creates on the target, oldest first (`to` is last). */
  snapshots: FilesystemVersion[];
}

export interface Rollback {
  /** The target's copy of the newest common snapshot. */
  to: FilesystemVersion;
  /** Target snapshots and bookmarks newer than `to`, oldest first: `zfs rollback -r` destroys them. */
  destroys: FilesystemVersion[];
}

interface PlanSubject {
  source: string;
  target: string;
}

export interface UpToDatePlan extends PlanSubject {
  action: 'up-to-date';
  /** The newest common snapshot (or bookmark) as the source knows it. */
  common: FilesystemVersion;
}

export interface ReplicatePlan extends PlanSubject {
  action: 'replicate';
  /** One line saying why, for logs and `--dry-run`. */
  reason: string;
  /** Executed in order. Empty only when a rollback alone resolves a divergence and nothing is newer. */
  steps: Step[];
  /** The source's newest common snapshot the first step starts from (absent for a fresh replication). */
  common?: FilesystemVersion;
  /** Roll the target back first (onDiverged 'rollback'). */
  rollback?: Rollback;
  /**
   * Rename the target to `to` first, keeping it intact, then replicate fresh into the old name.
   * `zfs rename` takes the target's descendants along: in a recursive job, plan the children
   * after the rename (their targets no longer exist then). The rename fails, harmlessly, if
   * `to` exists or is too long; the executor reports that.
   */
  renameTarget?: { to: string };
  /** The first (full) step must be received with `-F`: the target exists but has no snapshots. */
  forceFullReceive?: boolean;
  /**
   * The target exists without snapshots. `recv -F` overwrites whatever it holds, so the
   * executor must check that it is really empty (no data written, no children) before that.
   */
  targetExistsWithoutSnapshots?: boolean;
}

export interface SkipPlan extends PlanSubject {
  action: 'skip';
  code: 'NO_SNAPSHOTS';
  reason: string;
}

export interface RefusePlan extends PlanSubject {
  action: 'refuse';
  error: PlanError;
}

export type FilesystemPlan = UpToDatePlan | ReplicatePlan | SkipPlan | RefusePlan;
