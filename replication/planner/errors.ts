import { ZferryError } from '../../platform/errors.js';
import type { FilesystemVersion } from '../zfs/types.js';

/** Why the planner refused to plan a filesystem; the user has to decide something first. */
export type PlanErrorCode =
  /** The target has snapshots newer than the newest common one, or was modified since it. */
  | 'DIVERGED'
  /** The target has snapshots, but none shares a guid with the source. */
  | 'NO_COMMON_SNAPSHOT'
  /** A full send is needed and the initial replication policy is 'fail'. */
  | 'INITIAL_REFUSED';

export interface PlanErrorDetails {
  source: string;
  target: string;
  /** The newest common snapshot as the target knows it (DIVERGED, and INITIAL_REFUSED after a divergence). */
  common?: FilesystemVersion | undefined;
  /** Target snapshots newer than the common one, oldest first. */
  divergingSnapshots?: readonly FilesystemVersion[] | undefined;
  /** The target was written to since its newest snapshot (the common one). */
  targetModified?: boolean | undefined;
  /** The target's newest snapshot (NO_COMMON_SNAPSHOT). */
  targetNewest?: FilesystemVersion | undefined;
}

/**
 * A refusal, carried inside a `refuse` plan rather than thrown: in a recursive job one refused
 * filesystem must not stop the plans of the others. `message` is written for people and names
 * the snapshots involved; the fields carry the same facts for programs.
 */
export class PlanError extends ZferryError {
  declare readonly code: PlanErrorCode;
  readonly source: string;
  readonly target: string;
  readonly common: FilesystemVersion | undefined;
  readonly divergingSnapshots: readonly FilesystemVersion[];
  readonly targetModified: boolean;
  readonly targetNewest: FilesystemVersion | undefined;

  constructor(code: PlanErrorCode, message: string, details: PlanErrorDetails, options?: { cause?: unknown }) {
    super(code, message, options);
    this.source = details.source;
    this.target = details.target;
    this.common = details.common;
    this.divergingSnapshots = details.divergingSnapshots ?? [];
    this.targetModified = details.targetModified ?? false;
    this.targetNewest = details.targetNewest;
  }
}

/** A caller passed something the planner cannot work with (a programming or configuration error). */
export class PlanArgumentError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

export type FilesystemListingErrorCode =
  /** Not a syntactically valid ZFS filesystem name. */
  | 'INVALID_NAME'
  /** A listed filesystem is not the root nor below it. */
  | 'OUTSIDE_ROOT'
  /** The same filesystem is listed twice. */
  | 'DUPLICATE';

/**
 * A filesystem listing (possibly from a remote, untrusted peer) that cannot be trusted.
 * The whole listing is rejected: a peer that lies about one name may lie about others.
 */
export class FilesystemListingError extends ZferryError {
  declare readonly code: FilesystemListingErrorCode;
  /** The offending name, as received. */
  readonly filesystem: string;

  constructor(code: FilesystemListingErrorCode, filesystem: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.filesystem = filesystem;
  }
}

/** How a job's target overlaps its source on one pool. */
export type Overlap = 'same' | 'target-inside-source' | 'source-inside-target';

const OVERLAP_WORDS: Record<Overlap, string> = {
  same: 'they are the same dataset',
  'target-inside-source': 'the target lies inside the source, so every run would copy the copies again',
  'source-inside-target': 'the target contains the source, so receiving there could roll back, rename or overwrite the source',
};

/**
 * The target equals, contains or lies inside the source on the same pool (one pool guid):
 * refused before anything changes. A usage error: the command line names the wrong place.
 */
export class OverlappingTargetError extends ZferryError {
  readonly overlap: Overlap;
  readonly source: string;
  readonly target: string;
  readonly poolGuid: string;

  constructor(overlap: Overlap, source: string, target: string, poolGuid: string) {
    super('OVERLAPPING_TARGET', `refusing to replicate ${source} to ${target}: both are on the same pool (guid ${poolGuid}) and ${OVERLAP_WORDS[overlap]}`);
    this.overlap = overlap;
    this.source = source;
    this.target = target;
    this.poolGuid = poolGuid;
  }
}
