/**
 * Where the two sides of a job are, asked before anything changes: which pool each one is on
 * (by guid, so `host:pool/x` over ssh to this very machine counts as the local pool). A target
 * overlapping the source on one pool is refused, and so is a side whose pool does not exist.
 */
import { refuseOverlap } from '../planner/index.js';
import { poolOf } from '../zfs/index.js';
import { SourceNotFoundError, TargetPoolNotFoundError } from './errors.js';
import { signalOption } from './run-filesystem.js';
import type { ReplicationJob } from './types.js';

export async function checkPlacement(job: ReplicationJob): Promise<void> {
  const [source, target] = await Promise.all([
    job.sender.poolIdentity({ filesystem: job.source }, signalOption(job)),
    job.receiver.poolIdentity({ filesystem: job.target }, signalOption(job)),
  ]);
  refuseOverlap({ dataset: job.source, poolGuid: source.guid }, { dataset: job.target, poolGuid: target.guid });
  if (source.guid === null) throw new SourceNotFoundError(job.source, `pool '${poolOf(job.source)}' does not exist`);
  if (target.guid === null) throw new TargetPoolNotFoundError(poolOf(job.target), job.target);
}
