import { PlanArgumentError } from './errors.js';
import type { DivergedPolicy, InitialPolicy, PlanOptions } from './types.js';

export const DEFAULT_PLAN_OPTIONS: Readonly<PlanOptions> = Object.freeze({
  initial: 'all',
  onDiverged: 'fail',
  batch: false,
});

const INITIAL_POLICIES: readonly InitialPolicy[] = ['all', 'most-recent', 'fail'];
const DIVERGED_POLICIES: readonly DivergedPolicy[] = ['fail', 'rollback', 'rename'];

/** Fills defaults and checks what types cannot (values from config files, a clock for 'rename'). */
export function resolvePlanOptions(options: Partial<PlanOptions> = {}): PlanOptions {
  const resolved: PlanOptions = {
    initial: options.initial ?? DEFAULT_PLAN_OPTIONS.initial,
    onDiverged: options.onDiverged ?? DEFAULT_PLAN_OPTIONS.onDiverged,
    batch: options.batch ?? DEFAULT_PLAN_OPTIONS.batch,
  };
  if (options.include !== undefined) resolved.include = options.include;
  if (options.exclude !== undefined) resolved.exclude = options.exclude;
  if (options.now !== undefined) resolved.now = options.now;
  if (!INITIAL_POLICIES.includes(resolved.initial)) {
    throw new PlanArgumentError(`unknown initial policy ${JSON.stringify(resolved.initial)} (expected ${INITIAL_POLICIES.join(', ')})`);
  }
  if (!DIVERGED_POLICIES.includes(resolved.onDiverged)) {
    throw new PlanArgumentError(`unknown on-diverged policy ${JSON.stringify(resolved.onDiverged)} (expected ${DIVERGED_POLICIES.join(', ')})`);
  }
  // Checked up front, not only when a rename turns out to be needed, so the mistake shows at once.
  if (resolved.onDiverged === 'rename' && (resolved.now === undefined || Number.isNaN(resolved.now.getTime()))) {
    throw new PlanArgumentError("onDiverged 'rename' needs options.now (a valid Date) to name the renamed target");
  }
  return resolved;
}
