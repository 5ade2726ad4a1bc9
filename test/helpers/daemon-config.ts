/**
 * Daemon configs built in code (config/types.ts), with every default spelt out, for tests
 * that drive daemon/ directly; and the same as YAML for tests that start `zferry daemon`.
 */
import type { Config, FilesystemFilterRule, JobConfig, PullJob, PushJob, ReplicationPolicy, SinkJob, SourceJob, SnapJob } from '../../config/types.js';

const position = { file: '/test/zferry.yml', line: 1, column: 1 };

export function rules(filter: Record<string, boolean>): FilesystemFilterRule[] {
  return Object.entries(filter).map(([pattern, include]) => ({
    path: pattern.endsWith('<') ? pattern.slice(0, -1) : pattern,
    subtree: pattern.endsWith('<'),
    include,
    pattern,
    position,
  }));
}

export function policy(overrides: Partial<ReplicationPolicy> = {}): ReplicationPolicy {
  return {
    send: { raw: false, compressed: false, largeBlocks: false, embeddedData: false },
    initialReplication: 'all',
    onDiverged: 'fail',
    batch: false,
    snapshots: { include: [], exclude: [] },
    concurrency: 4,
    bandwidthLimit: {},
    ...overrides,
  };
}

export function pushToSink(name: string, filter: Record<string, boolean>, listener: string, client: string, overrides: Partial<PushJob> = {}): PushJob {
  return {
    type: 'push',
    name,
    position,
    renamedFrom: [],
    connect: { type: 'local', listenerName: listener, clientIdentity: client },
    filesystems: rules(filter),
    pathMapping: 'nested',
    schedule: { kind: 'manual' },
    snapshotting: { type: 'manual' },
    replication: policy(),
    ...overrides,
  };
}

export function sink(name: string, listener: string, rootFs: string, overrides: Partial<SinkJob> = {}): SinkJob {
  return { type: 'sink', name, position, renamedFrom: [], serve: { type: 'local', listenerName: listener }, rootFs, pathMapping: 'nested', ...overrides };
}

export function source(name: string, listener: string, filter: Record<string, boolean>): SourceJob {
  return {
    type: 'source',
    name,
    position,
    renamedFrom: [],
    serve: { type: 'local', listenerName: listener },
    filesystems: rules(filter),
    snapshotting: { type: 'manual' },
    send: { raw: false, compressed: false, largeBlocks: false, embeddedData: false },
  };
}

export function pullFromSource(name: string, listener: string, rootFs: string, overrides: Partial<PullJob> = {}): PullJob {
  return {
    type: 'pull',
    name,
    position,
    renamedFrom: [],
    connect: { type: 'local', listenerName: listener, clientIdentity: name },
    rootFs,
    filesystems: [],
    pathMapping: 'nested',
    schedule: { kind: 'manual' },
    replication: policy(),
    ...overrides,
  };
}

export function snapJob(name: string, filter: Record<string, boolean>, prefix: string): SnapJob {
  return {
    type: 'snap',
    name,
    position,
    renamedFrom: [],
    filesystems: rules(filter),
    snapshotting: { type: 'periodic', prefix, intervalMs: 3_600_000, timestampFormat: 'dense' },
  };
}

export function daemonConfig(jobs: JobConfig[], stateDir: string, sockpath = `${stateDir}/control.sock`): Config {
  return {
    file: '/test/zferry.yml',
    global: { logging: [], monitoring: [], control: { sockpath }, serve: { stdinserver: { sockdir: `${stateDir}/stdinserver` } }, stateDir },
    jobs,
  };
}
