import type { KeepRule } from './rules.js';

/** A snapshot as pruning sees it: what `zfs get guid,createtxg,creation,userrefs` says. */
export interface PruneSnapshot {
  /** The short name after `@`. */
  name: string;
  guid: string;
  createtxg: number;
  /** Seconds since the epoch. */
  creation: number;
  /** `zfs hold`s on it; a held snapshot cannot be destroyed, and someone wants it. */
  userrefs: number;
}

/** A zferry replication cursor on the filesystem: the newest snapshot common with one destination. */
export interface PruneCursor {
  job: string;
  /** The destination as people read it (`local://host/backup/x`, `ssh://backup@nas/tank/x`). */
  destination: string;
  /** The short name of the snapshot the cursor names. */
  snapshot: string;
  /** Its guid, when known: a snapshot renamed since is still found. */
  guid?: string | undefined;
}

export interface PruningInput {
  filesystem: string;
  snapshots: readonly PruneSnapshot[];
  /** The side's keep rules (parseKeepRules). An empty list keeps everything, as in zrepl. */
  rules: readonly KeepRule[];
  /** Every cursor any job holds on this filesystem, for every destination. */
  cursors: readonly PruneCursor[];
  /** Whether this side replicates (push, pull, source, sink); false for a snap job. */
  replicates: boolean;
  /**
   * The createtxg of the newest snapshot this job has replicated from or to this filesystem;
   * undefined when it never has. On a side that replicates, undefined leaves the filesystem
   * alone (zrepl#606: there pruning failed in a loop).
   */
  lastReplicatedTxg?: number | undefined;
  /** Whether the job owns a snapshot (its prefix or regex); only owned snapshots are ever destroyed. */
  owns: (name: string) => boolean;
}

export type GuardKind = 'not_owned' | 'never_replicated' | 'no_rules' | 'newest_common' | 'held' | 'newer_than_last_replication';

/** Why a snapshot is kept: a keep rule (by its place in the list) or a guard. */
export type KeepReason =
  | {
      kind: 'rule';
      /** The rule's index in the side's list. */
      rule: number;
      type: KeepRule['type'];
      /** For a grid: the bucket's index in the expanded grid (GridSpec.buckets). */
      bucket?: number;
      text: string;
    }
  | { kind: 'guard'; guard: GuardKind; text: string };

export interface PruningDecision {
  snapshot: string;
  guid: string;
  createtxg: number;
  creation: number;
  action: 'keep' | 'destroy';
  /** The first of keptBy (rules before guards), or why it goes. */
  reason: string;
  /** Every rule and guard that keeps it; empty for a destroy. */
  keptBy: KeepReason[];
}

export interface PruningResult {
  filesystem: string;
  /** One per snapshot, oldest (lowest createtxg) first. */
  decisions: PruningDecision[];
  /** What a reader of the whole filesystem should know (never replicated, a cursor naming a missing snapshot). */
  note?: string;
}
