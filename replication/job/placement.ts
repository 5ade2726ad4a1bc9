/**
 * Where the two sides of a job are, asked before anything changes: which pool each one is on
 * (by guid, so `host:pool/x` over ssh to this very machine counts as the local pool). A target
 * overlapping the source on one pool is refused, and so is a side whose pool does not exist.
 */
import { refuseOverlap } from '../planner/index.js';
import { poolOf } from '../zfs/index.js';
import { SourceNotFoundError, TargetPoolNotFoundError } from './errors.js';
import type { RunContext } from './context.js';

export async function checkPlacement(run: RunContext): Promise<void> {
  const { source, target } = run.spec;
  const [sourcePool, targetPool] = await Promise.all([
    run.sender.poolIdentity({ filesystem: source }, run.call),
    run.receiver.poolIdentity({ filesystem: target }, run.call),
  ]);
  refuseOverlap({ dataset: source, poolGuid: sourcePool.guid }, { dataset: target, poolGuid: targetPool.guid });
  if (sourcePool.guid === null) throw new SourceNotFoundError(source, `pool '${poolOf(source)}' does not exist`);
  if (targetPool.guid === null) throw new TargetPoolNotFoundError(poolOf(target), target);
}
