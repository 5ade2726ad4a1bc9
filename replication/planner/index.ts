/**
 * The replication planner: pure functions from version lists to plans. It runs nothing and
 * never reads the clock, so every decision it takes can be tested without ZFS.
 */
export { planFilesystem } from './plan-filesystem.js';
export { describePlan, describeStep } from './describe.js';
export { DEFAULT_PLAN_OPTIONS, resolvePlanOptions } from './options.js';
export { mapFilesystemTree, findTargetsMissingOnSender, type FilesystemMapping } from './filesystem-tree.js';
export { findOverlap, refuseOverlap, type PlacedDataset } from './overlap.js';
export { globMatch, createSnapshotSelector, type SnapshotFilter } from './glob.js';
export { snapshotNameFor, formatUtcCompact } from './snapshot-name.js';
export { compareVersions, sortVersions, findNewestCommon, shortName, type CommonVersion } from './versions.js';
export {
  PlanError,
  PlanArgumentError,
  FilesystemListingError,
  OverlappingTargetError,
  type Overlap,
  type PlanErrorCode,
  type PlanErrorDetails,
  type FilesystemListingErrorCode,
} from './errors.js';
export type {
  InitialPolicy,
  DivergedPolicy,
  PlanOptions,
  PlanInput,
  Step,
  Rollback,
  FilesystemPlan,
  UpToDatePlan,
  ReplicatePlan,
  SkipPlan,
  RefusePlan,
} from './types.js';
