/**
 * Replication jobs against in-memory endpoints (an Implementation of the endpoint contract
 * served through LocalRPC): for what real zfs-fuse cannot show, such as resume tokens or a
 * receiver that answers wrongly.
 */
import { pino } from 'pino';
import { localClient, type Implementation } from '../../rpc/index.js';
import { endpointContract, type EndpointContract } from '../../replication/contract.js';
import { runReplicationJob } from '../../replication/job/run-job.js';
import type { JobSummary, ReplicationJob } from '../../replication/job/types.js';
import type { FilesystemVersion } from '../../replication/zfs/types.js';

/** A snapshot version as an endpoint would report it. */
export function snapshotVersion(filesystem: string, name: string, guid: string, createtxg: number): FilesystemVersion {
  return { type: 'snapshot', filesystem, name, fullName: `${filesystem}@${name}`, guid, createtxg, creation: 1_700_000_000 + createtxg };
}

/** Runs a job from `source` to `target` with `impl` playing both sender and receiver. */
export function runInMemoryJob(
  impl: Implementation<EndpointContract>,
  source: string,
  target: string,
  overrides: Partial<ReplicationJob> = {},
): Promise<JobSummary> {
  const client = localClient(endpointContract, impl);
  return runReplicationJob({
    name: 'test',
    destination: 'here',
    sender: client,
    receiver: client,
    source,
    target,
    recursive: false,
    plan: { initial: 'all', onDiverged: 'fail', batch: false },
    concurrency: 1,
    dryRun: false,
    now: new Date(),
    logger: pino({ level: 'silent' }),
    ...overrides,
  });
}
