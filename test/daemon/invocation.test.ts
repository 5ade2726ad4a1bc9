/**
 * A daemon job's invocation on real pools (the job runner through the daemon's plan): push to
 * a sink of the same config lands below `root_fs/<client>` (or without the client component
 * with the sink's one_to_one), the filter picks what goes, a selected filesystem under an
 * unselected parent gets that parent created, a pull from a local source is kept within the
 * source's roots, a renamed job takes its cursors over with renamed_from, and a sink whose
 * root_fs is missing is named as such.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { EndpointOpener, type OpenedEndpoint } from '../../replication/endpoint/open.js';
import type { EndpointSpec } from '../../replication/endpoint/spec.js';
import { RpcConnectionLostError } from '../../rpc/index.js';
import { memoryLogger } from '../helpers/zfs-logger.js';
import { Invocation, type InvocationResult } from '../../daemon/invocation.js';
import { listenersOf } from '../../daemon/job-plan.js';
import type { JobConfig, PullJob, PushJob } from '../../config/types.js';
import { pullFromSource, pushToSink, rules, sink, snapJob, source } from '../helpers/daemon-config.js';
import { SnapInvocation } from '../../daemon/snap-invocation.js';
import { createDataset, datasetExists, listAll, listSnapshots, snapshot, userrefsBelow, usePool, zferryCursors } from '../helpers/zfs-pool.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

async function invoke(job: PushJob | PullJob, jobs: JobConfig[]): Promise<InvocationResult> {
  return (await invokeWithStatus(job, jobs)).result;
}

async function invokeWithStatus(job: PushJob | PullJob, jobs: JobConfig[]): Promise<{ result: InvocationResult; invocation: Invocation }> {
  const invocation = new Invocation({
    job,
    listeners: listenersOf(jobs),
    opener: new EndpointOpener({ logger }),
    hostname: 'testhost',
    logger: logger.child({ job: job.name }),
    trigger: 'run',
    firstBackoffMs: 10,
  });
  return { result: await invocation.result, invocation };
}

async function guids(filesystem: string): Promise<Record<string, string>> {
  return Object.fromEntries((await listSnapshots(filesystem)).map((s) => [s.name, s.guid]));
}

describe('a daemon job invocation', () => {
  const src = usePool();
  const dst = usePool();

  test('push to a local sink: below root_fs/<client>, only what the filter selects, then incrementally', async () => {
    const root = await createDataset(src.pool.dataset('p1'));
    await createDataset(`${root}/a`);
    await createDataset(`${root}/b`);
    await snapshot(`${root}@s1`, { recursive: true });
    const sinkRoot = await createDataset(dst.pool.dataset('sink1'), { properties: { mountpoint: 'none' } });
    const jobs: JobConfig[] = [sink('sink', 'backups', sinkRoot), pushToSink('push1', { [`${root}<`]: true, [`${root}/b`]: false }, 'backups', 'client1')];
    const push = jobs[1] as PushJob;

    const { result: first, invocation } = await invokeWithStatus(push, jobs);
    assert.equal(first.outcome, 'ok', JSON.stringify(first));
    assert.deepEqual(
      invocation.status().filesystems.map((fs) => [fs.source, fs.base?.snapshot]),
      [
        [root, 's1'],
        [`${root}/a`, 's1'],
      ],
      'the status names the base each filesystem now shares',
    );
    const target = `${sinkRoot}/client1/${root}`;
    assert.deepEqual(await guids(target), await guids(root));
    assert.deepEqual(await guids(`${target}/a`), await guids(`${root}/a`));
    assert.equal(await datasetExists(`${target}/b`), false, 'the filter left b out');
    assert.deepEqual(
      first.filesystems.map((fs) => [fs.source, fs.outcome]),
      [
        [root, 'replicated'],
        [`${root}/a`, 'replicated'],
      ],
    );

    await snapshot(`${root}@s2`, { recursive: true });
    const second = await invoke(push, jobs);
    assert.equal(second.outcome, 'ok');
    assert.deepEqual(await guids(`${target}/a`), await guids(`${root}/a`));
    assert.deepEqual(
      second.filesystems.map((fs) => fs.steps.map((step) => `${step.kind} ${step.from ?? ''} -> ${step.to}`)),
      [[`incremental ${root}@s1 -> ${root}@s2`], [`incremental ${root}/a@s1 -> ${root}/a@s2`]],
    );
    // The cursor: one hold per side on s2, on what this job replicated only.
    const held = await userrefsBelow(root);
    assert.equal(held[`${root}@s2`], 1);
    assert.equal(held[`${root}/b@s2`], 0);
    assert.equal(held[`${root}@s1`], 0);
  });

  test("a one_to_one sink takes its client's tree at root_fs itself; a child under an unselected parent gets the parent created", async () => {
    const root = await createDataset(src.pool.dataset('p2'));
    await createDataset(`${root}/skip`);
    await createDataset(`${root}/skip/keep`);
    await snapshot(`${root}@s1`, { recursive: true });
    const sinkRoot = await createDataset(dst.pool.dataset('sink2'), { properties: { mountpoint: 'none' } });
    const jobs: JobConfig[] = [
      sink('sink', 'flat', sinkRoot, { pathMapping: 'one_to_one' }),
      pushToSink('push2', { [`${root}<`]: true, [`${root}/skip`]: false, [`${root}/skip/keep`]: true }, 'flat', 'client2'),
    ];
    const result = await invoke(jobs[1] as PushJob, jobs);
    assert.equal(result.outcome, 'ok', JSON.stringify(result));
    assert.deepEqual(await guids(sinkRoot), await guids(root));
    assert.deepEqual(await guids(`${sinkRoot}/skip/keep`), await guids(`${root}/skip/keep`));
    assert.deepEqual(await guids(`${sinkRoot}/skip`), {}, 'the unselected parent exists, without snapshots');
    assert.equal(await datasetExists(`${sinkRoot}/client2`), false);
  });

  test("a pull's one_to_one maps the source's single root onto root_fs", async () => {
    const root = await createDataset(src.pool.dataset('p3'));
    await createDataset(`${root}/c`);
    await snapshot(`${root}@s1`, { recursive: true });
    const into = dst.pool.dataset('pulled3');
    const jobs: JobConfig[] = [source('src3', 'l3', { [`${root}<`]: true }), pullFromSource('pull3', 'l3', into, { pathMapping: 'one_to_one' })];
    const result = await invoke(jobs[1] as PullJob, jobs);
    assert.equal(result.outcome, 'ok', JSON.stringify(result));
    assert.deepEqual(await guids(into), await guids(root));
    assert.deepEqual(await guids(`${into}/c`), await guids(`${root}/c`));
  });

  test('a sink whose root_fs does not exist is named, and nothing is created', async () => {
    const root = await createDataset(src.pool.dataset('p4'));
    await snapshot(`${root}@s1`);
    const jobs: JobConfig[] = [sink('sink', 'l4', dst.pool.dataset('missing/sink')), pushToSink('push4', { [root]: true }, 'l4', 'c4')];
    const result = await invoke(jobs[1] as PushJob, jobs);
    assert.equal(result.outcome, 'failed');
    assert.equal(result.error?.code, 'SINK_ROOT_NOT_FOUND', JSON.stringify(result));
    assert.match(result.error?.message ?? '', /root_fs .*missing\/sink does not exist/);
    assert.equal(result.attempts, 1, 'not worth another attempt');
    assert.equal(await datasetExists(dst.pool.dataset('missing')), false);
  });

  test("a pull from a local source stays within the source's roots", async () => {
    const served = await createDataset(src.pool.dataset('p5'));
    const other = await createDataset(src.pool.dataset('p5other'));
    await snapshot(`${served}@s1`);
    await snapshot(`${other}@s1`);
    const into = await createDataset(dst.pool.dataset('pulled5'), { properties: { mountpoint: 'none' } });
    const jobs: JobConfig[] = [source('src', 'l5', { [`${served}<`]: true }), pullFromSource('pull5', 'l5', into)];
    const ok = await invoke(jobs[1] as PullJob, jobs);
    assert.equal(ok.outcome, 'ok', JSON.stringify(ok));
    assert.deepEqual(await guids(`${into}/${served}`), await guids(served));

    const greedy = pullFromSource('pull5b', 'l5', into, { filesystems: rules({ [`${other}<`]: true }) });
    const refused = await invoke(greedy, [jobs[0] as JobConfig, greedy]);
    assert.equal(refused.outcome, 'failed');
    assert.equal(refused.runErrors[0]?.code, 'ENDPOINT_OUTSIDE_ROOT', JSON.stringify(refused));
    assert.equal(await datasetExists(`${into}/${other}`), false);
  });

  test('a snap job snapshots what its filter selects, under prefix + UTC time; a push with snapshotting snapshots, then replicates', async () => {
    const root = await createDataset(src.pool.dataset('p7'));
    await createDataset(`${root}/a`);
    await createDataset(`${root}/b`);
    const whole = await new SnapInvocation({
      job: snapJob('snaps', { [`${root}<`]: true }, 'auto_'),
      opener: new EndpointOpener({ logger }),
      logger,
      trigger: 'run',
    }).result;
    assert.equal(whole.outcome, 'ok', JSON.stringify(whole));
    const names = (await listSnapshots(root)).map((s) => s.name);
    assert.equal(names.length, 1);
    assert.match(names[0] ?? '', /^auto_\d{8}_\d{6}_\d{3}$/);
    assert.deepEqual(
      (await listSnapshots(`${root}/b`)).map((s) => s.name),
      names,
      'the whole subtree, in one recursive snapshot',
    );

    const some = await new SnapInvocation({
      job: snapJob('snaps', { [`${root}<`]: true, [`${root}/b`]: false }, 'part_'),
      opener: new EndpointOpener({ logger }),
      logger,
      trigger: 'run',
    }).result;
    assert.equal(some.outcome, 'ok');
    assert.equal((await listSnapshots(root)).filter((s) => s.name.startsWith('part_')).length, 1);
    assert.equal((await listSnapshots(`${root}/a`)).filter((s) => s.name.startsWith('part_')).length, 1);
    assert.equal((await listSnapshots(`${root}/b`)).filter((s) => s.name.startsWith('part_')).length, 0, 'b is excluded');

    const sinkRoot = await createDataset(dst.pool.dataset('sink7'), { properties: { mountpoint: 'none' } });
    const jobs: JobConfig[] = [
      sink('sink', 'l7', sinkRoot),
      pushToSink('push7', { [`${root}/a`]: true }, 'l7', 'c7', {
        snapshotting: { type: 'periodic', prefix: 'push_', intervalMs: 60_000, timestampFormat: 'dense' },
      }),
    ];
    const pushed = await invoke(jobs[1] as PushJob, jobs);
    assert.equal(pushed.outcome, 'ok', JSON.stringify(pushed));
    const taken = (await listSnapshots(`${root}/a`)).filter((s) => s.name.startsWith('push_'));
    assert.equal(taken.length, 1, 'the push took its snapshot');
    assert.deepEqual(await guids(`${sinkRoot}/c7/${root}/a`), await guids(`${root}/a`));
  });

  test('a lost connection is tried again within the invocation; the attempt count and a warning say so', async () => {
    const root = await createDataset(src.pool.dataset('p8'));
    await snapshot(`${root}@s1`);
    const sinkRoot = await createDataset(dst.pool.dataset('sink8'), { properties: { mountpoint: 'none' } });
    const jobs: JobConfig[] = [sink('sink', 'l8', sinkRoot), pushToSink('push8', { [root]: true }, 'l8', 'c8')];
    // The receiving side's first listing fails as a dropped connection would.
    let failures = 1;
    class FlakyOpener extends EndpointOpener {
      override open(spec: EndpointSpec): OpenedEndpoint {
        const opened = super.open(spec);
        if (spec.kind !== 'local' || spec.roots === undefined) return opened;
        const client = new Proxy(opened.client, {
          get(target, property, receiver) {
            const value = Reflect.get(target, property, receiver) as unknown;
            if (property !== 'listVersionTree' || failures === 0) return value;
            failures -= 1;
            return () => Promise.reject(new RpcConnectionLostError('connection reset by peer'));
          },
        });
        return { ...opened, client, destination: () => opened.destination(), close: () => opened.close() };
      }
    }
    const recorded = memoryLogger('info');
    const result = await new Invocation({
      job: jobs[1] as PushJob,
      listeners: listenersOf(jobs),
      opener: new FlakyOpener({ logger }),
      hostname: 'testhost',
      logger: recorded.logger,
      trigger: 'run',
      firstBackoffMs: 10,
    }).result;
    assert.equal(result.outcome, 'ok', JSON.stringify(result));
    assert.equal(result.attempts, 2);
    assert.deepEqual(await guids(`${sinkRoot}/c8/${root}`), await guids(root));
    const retry = recorded.records.find((record) => record.msg === 'transient failure: trying again');
    assert.ok(retry !== undefined, 'the retry is logged');
  });

  test('a renamed job with renamed_from takes its cursors over: no hold of the old name is left', async () => {
    const root = await createDataset(src.pool.dataset('p6'));
    await snapshot(`${root}@s1`);
    const sinkRoot = await createDataset(dst.pool.dataset('sink6'), { properties: { mountpoint: 'none' } });
    const before: JobConfig[] = [sink('sink', 'l6', sinkRoot), pushToSink('old-name', { [root]: true }, 'l6', 'c6')];
    assert.equal((await invoke(before[1] as PushJob, before)).outcome, 'ok');
    const target = `${sinkRoot}/c6/${root}`;
    const cursorsBefore = [...(await zferryCursors(root)).keys()];
    assert.equal(cursorsBefore.length, 1);
    assert.match(cursorsBefore[0] ?? '', /zferry_old-name_/);

    const after: JobConfig[] = [sink('sink', 'l6', sinkRoot), pushToSink('new-name', { [root]: true }, 'l6', 'c6', { renamedFrom: ['old-name'] })];
    const result = await invoke(after[1] as PushJob, after);
    assert.equal(result.outcome, 'ok', JSON.stringify(result));
    for (const side of [root, target]) {
      const cursors = [...(await zferryCursors(side)).entries()].filter(([, value]) => value.source === 'local');
      assert.deepEqual(
        cursors.map(([property]) => /zferry_([a-z-]+)_/.exec(property)?.[1]),
        ['new-name'],
        `${side}: only the new name's cursor is left`,
      );
      assert.equal((await userrefsBelow(side))[`${side}@s1`], 1, `${side}@s1 is held once`);
    }
    assert.ok((await listAll(target)).includes(`${target}@s1`));
  });
});
