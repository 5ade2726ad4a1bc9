/**
 * Pruning, the pure part: keep rules parsed from the config, and per filesystem and side the
 * decision for every snapshot (keep or destroy, and the rule or guard that decided). It runs
 * nothing; the daemon lists, decides here, and destroys.
 */
export { decidePruning } from './decide.js';
export { parseKeepRule, parseKeepRules, describeRule, type KeepRule, type SnapshotPattern } from './rules.js';
export { parseGridSpec, KEEP_ALL, MAX_GRID_BUCKETS, type GridSpec, type GridInterval, type GridBucket } from './grid-spec.js';
export { fitGrid, bucketIndexOf, type GridEntry } from './grid.js';
export { describeBucket } from './keep.js';
export { PruningRuleError } from './errors.js';
export type { PruneSnapshot, PruneCursor, PruningInput, PruningDecision, PruningResult, KeepReason, GuardKind } from './types.js';
