/**
 * Replication jobs against in-memory endpoints (an Implementation of the endpoint contract
 * served through LocalRPC): for what real zfs-fuse cannot show, such as resume tokens or a
 * receiver that answers wrongly.
 */
import { pino } from 'pino';
import { localClient, type Implementation } from '../../rpc/index.js';
import { endpointContract, type EndpointContract } from '../../replication/contract.js';
import { startReplication } from '../../replication/job/run-job.js';
import type { JobRuntime, JobSpec, JobSummary, ReplicationHandle } from '../../replication/job/types.js';
import type { FilesystemVersion } from '../../replication/zfs/types.js';

/** A snapshot version as an endpoint would report it. */
export function snapshotVersion(filesystem: string, name: string, guid: string, createtxg: number): FilesystemVersion {
  return { type: 'snapshot', filesystem, name, fullName: `${filesystem}@${name}`, guid, createtxg, creation: 1_700_000_000 + createtxg };
}

/**
 * Every endpoint of the contract, failing with code UNUSED: a test spreads this and writes
 * only the endpoints its job should call, so a call it did not expect fails the job loudly.
 * poolIdentity, which every job asks first, answers as one host would: one guid per pool name.
 */
export function unusedEndpoints(): Implementation<EndpointContract> {
  const unused = async (): Promise<never> => {
    throw Object.assign(new Error('not used by this test'), { code: 'UNUSED' });
  };
  const endpoints = Object.fromEntries(Object.keys(endpointContract.endpoints).map((name) => [name, unused])) as unknown as Implementation<EndpointContract>;
  return { ...endpoints, poolIdentity: async (req) => ({ guid: poolGuidOf(req.filesystem) }) };
}

type ListVersionTree = Implementation<EndpointContract>['listVersionTree'];

/** Lists two pools kept as maps (filesystem → its versions): `source` for `sourceRoot`, `target` for any other root. */
export function listPools(
  sourceRoot: string,
  source: ReadonlyMap<string, FilesystemVersion[]>,
  target: ReadonlyMap<string, FilesystemVersion[]>,
): ListVersionTree {
  return async (req) => {
    const side = req.root === sourceRoot ? source : target;
    return { exists: true, filesystems: [...side].map(([name, versions]) => ({ name, versions: [...versions] })), resumeTokens: {} };
  };
}

/**
 * Lists a tree one snapshot behind: each of `names` (at or below `sourceRoot`) has @s1 and @s2,
 * its target (the same path below `targetRoot`) @s1; the n-th filesystem's guids are n01, n02.
 */
export function listOneSnapshotBehind(sourceRoot: string, targetRoot: string, names: readonly string[]): ListVersionTree {
  return async (req) => {
    const side = req.root === sourceRoot ? sourceRoot : targetRoot;
    const filesystems = names.map((name, i) => {
      const fs = name.replace(sourceRoot, side);
      const guid = (n: number) => String(100 * (i + 1) + n);
      return {
        name: fs,
        versions:
          side === sourceRoot ? [snapshotVersion(fs, 's1', guid(1), 10), snapshotVersion(fs, 's2', guid(2), 20)] : [snapshotVersion(fs, 's1', guid(1), 5)],
      };
    });
    return { exists: true, filesystems, resumeTokens: {} };
  };
}

/** A stand-in pool guid: the same for every dataset of one pool name, different between names. */
function poolGuidOf(filesystem: string): string {
  const pool = filesystem.split('/')[0] ?? filesystem;
  return String([...pool].reduce((sum, char) => (sum * 31 + char.charCodeAt(0)) % 1_000_000_007, 7));
}

/** What a test sets of a job: any part of its spec and its runtime, side by side. */
export type InMemoryJobOptions = Partial<JobSpec> & Partial<JobRuntime>;

/** Starts a job from `source` to `target` with `impl` playing both sender and receiver. */
export function startInMemoryJob(impl: Implementation<EndpointContract>, source: string, target: string, options: InMemoryJobOptions = {}): ReplicationHandle {
  const client = localClient(endpointContract, impl);
  const { sender, receiver, logger, signal, onProgress, estimateSizes, now, ...spec } = options;
  return startReplication(
    {
      name: 'test',
      // Per process: test files run side by side, and a run locks its destination (target-lock.ts).
      destination: `here-${process.pid}`,
      source,
      target,
      recursive: false,
      plan: { initial: 'all', onDiverged: 'fail', batch: false },
      concurrency: 1,
      dryRun: false,
      ...spec,
    },
    {
      sender: sender ?? client,
      receiver: receiver ?? client,
      logger: logger ?? pino({ level: 'silent' }),
      ...(signal !== undefined ? { signal } : {}),
      ...(onProgress !== undefined ? { onProgress } : {}),
      ...(estimateSizes !== undefined ? { estimateSizes } : {}),
      ...(now !== undefined ? { now } : {}),
    },
  );
}

/** Runs a job from `source` to `target` with `impl` playing both sender and receiver. */
export function runInMemoryJob(impl: Implementation<EndpointContract>, source: string, target: string, options: InMemoryJobOptions = {}): Promise<JobSummary> {
  return startInMemoryJob(impl, source, target, options).result;
}
