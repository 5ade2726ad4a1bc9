// The handle a started job returns: its live status (read while in-memory endpoints hold each
// transfer where the test wants it) and its result, the summary the CLI prints with --json.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { Implementation } from '../../../rpc/index.js';
import type { EndpointContract } from '../../../replication/contract.js';
import type { FilesystemStatus, JobStatus, ProgressEvent, ReplicationHandle } from '../../../replication/job/types.js';
import type { FilesystemVersion } from '../../../replication/zfs/types.js';
import { listOneSnapshotBehind, listPools, startInMemoryJob, snapshotVersion as version, unusedEndpoints } from '../../helpers/in-memory-job.js';

const SRC = 'tank/data';
const DST = 'backup/data';

/** Resolves each time `wanted` holds of the status, checked after every turn of the event loop. */
async function until(handle: ReplicationHandle, wanted: (status: JobStatus) => boolean): Promise<JobStatus> {
  for (let turns = 0; turns < 10_000; turns++) {
    const status = handle.status();
    if (wanted(status)) return status;
    await tick();
  }
  throw new Error(`the status never got there: ${JSON.stringify(handle.status())}`);
}

const filesystem = (status: JobStatus, source: string): FilesystemStatus | undefined => status.filesystems.find((fs) => fs.source === source);

/** A function whose caller waits until the test calls `release`. */
function gate(): { wait: Promise<void>; release: () => void } {
  let release = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { wait, release };
}

/**
 * A root and one child, each one snapshot behind. Every send's stream is handed to the test
 * (`streams`), which writes and ends it; the receiver leaves the check of each last step to the
 * job, whose verifyReceived waits for `verify.release()`.
 */
function heldTransfers() {
  const streams = new Map<string, PassThrough>();
  const sent = new EventTarget();
  const verify = gate();
  let verifyAsked = false;
  const impl: Implementation<EndpointContract> = {
    ...unusedEndpoints(),
    listVersionTree: listOneSnapshotBehind(SRC, DST, [SRC, `${SRC}/a`]),
    async send(req) {
      const stream = new PassThrough();
      streams.set(req.snapshot.split('@')[0] ?? '', stream);
      sent.dispatchEvent(new Event('send'));
      return { response: {}, stream };
    },
    async receive(_req, stream) {
      for await (const _chunk of stream) {
        // drain
      }
      return {};
    },
    async verifyReceived(req) {
      verifyAsked = true;
      await verify.wait;
      return { versions: req.snapshots.map((snapshot, i) => version(snapshot.split('@')[0] ?? '', 's2', String(100 * (i + 1) + 2), 30)) };
    },
    async moveCursors() {
      return { released: 0 };
    },
  };
  return { impl, streams, verify, verifyAsked: () => verifyAsked };
}

test('status while running: pending, then running with the current step and its bytes, then done', async () => {
  const { impl, streams, verify, verifyAsked } = heldTransfers();
  let clock = 1_000;
  const handle = startInMemoryJob(impl, SRC, DST, { recursive: true, now: () => clock });
  assert.deepEqual(handle.status(), { source: SRC, target: DST, state: 'preparing', startedAt: 1_000, bytes: 0, filesystems: [] });

  // The root's step runs; its child waits for it.
  let status = await until(handle, () => streams.has(SRC));
  assert.equal(status.state, 'replicating');
  assert.deepEqual(filesystem(status, SRC), {
    source: SRC,
    target: DST,
    state: 'running',
    steps: [`incr  ${SRC}@s1 -> @s2`],
    stepsDone: 0,
    current: { index: 0, name: `incr  ${SRC}@s1 -> @s2`, bytes: 0, startedAt: 1_000 },
    bytes: 0,
    rate: 0,
  });
  assert.deepEqual(filesystem(status, `${SRC}/a`), { source: `${SRC}/a`, target: `${DST}/a`, state: 'pending', steps: [], stepsDone: 0, bytes: 0, rate: 0 });

  // Two seconds later 1000 bytes have gone through.
  clock = 3_000;
  streams.get(SRC)?.write(Buffer.alloc(1_000, 1));
  status = await until(handle, (s) => filesystem(s, SRC)?.current?.bytes === 1_000);
  assert.equal(filesystem(status, SRC)?.bytes, 1_000);
  assert.equal(filesystem(status, SRC)?.rate, 500, 'bytes per second over the last few seconds');
  assert.equal(status.bytes, 1_000);

  // The root's last step is received: it waits for the job's check; the child runs.
  streams.get(SRC)?.end();
  status = await until(handle, () => streams.has(`${SRC}/a`));
  assert.deepEqual(filesystem(status, SRC), {
    source: SRC,
    target: DST,
    state: 'verifying',
    steps: [`incr  ${SRC}@s1 -> @s2`],
    stepsDone: 1,
    bytes: 1_000,
    rate: 0,
    outcome: 'replicated',
  });
  assert.equal(filesystem(status, `${SRC}/a`)?.state, 'running');
  assert.equal(filesystem(status, `${SRC}/a`)?.current?.index, 0);

  streams.get(`${SRC}/a`)?.end(Buffer.alloc(500, 1));
  status = await until(handle, () => verifyAsked());
  assert.equal(status.state, 'finishing');
  assert.deepEqual(
    status.filesystems.map((fs) => fs.state),
    ['verifying', 'verifying'],
  );

  verify.release();
  const summary = await handle.result;
  assert.equal(summary.outcome, 'ok');
  status = handle.status();
  assert.equal(status.state, 'done');
  assert.equal(status.bytes, 1_500);
  assert.deepEqual(
    status.filesystems.map((fs) => [fs.source, fs.state, fs.outcome, fs.stepsDone, fs.bytes, fs.current]),
    [
      [SRC, 'done', 'replicated', 1, 1_000, undefined],
      [`${SRC}/a`, 'done', 'replicated', 1, 500, undefined],
    ],
  );
});

test('a filesystem that fails: its status says so and why, its child never runs, the others finish', async () => {
  const handle = startInMemoryJob(mixedTree(), SRC, DST, { recursive: true, snapshotName: 'zferry_x' });
  await handle.result;
  const status = handle.status();
  assert.equal(status.state, 'failed');
  assert.deepEqual(
    status.filesystems.map((fs) => [fs.source, fs.state, fs.outcome, fs.stepsDone, fs.error?.code]),
    [
      [SRC, 'done', 'replicated', 2, undefined],
      [`${SRC}/a`, 'done', 'up-to-date', 0, undefined],
      [`${SRC}/b`, 'failed', 'failed', 0, 'ZFS_NO_SPACE'],
      [`${SRC}/b/c`, 'failed', 'failed', 0, 'PARENT_FAILED'],
    ],
  );
  const failed = filesystem(status, `${SRC}/b`);
  assert.deepEqual(failed?.steps, [`incr  ${SRC}/b@s1 -> @s2`, `incr  ${SRC}/b@s2 -> @s3`], 'the plan it was carrying out');
  assert.equal(failed?.current, undefined, 'no step runs any more');
  assert.equal(failed?.error?.message, 'out of space');
});

test('interrupted: the running filesystem and those after it say so, and so does the job', async () => {
  const controller = new AbortController();
  const { impl, streams } = heldTransfers();
  const handle = startInMemoryJob(impl, SRC, DST, { recursive: true, signal: controller.signal });
  await until(handle, () => streams.has(SRC));
  controller.abort(new Error('interrupted by SIGINT'));
  streams.get(SRC)?.destroy(new Error('stream cut'));
  const summary = await handle.result;
  assert.equal(summary.outcome, 'interrupted');
  const status = handle.status();
  assert.equal(status.state, 'interrupted');
  assert.deepEqual(
    status.filesystems.map((fs) => [fs.source, fs.state, fs.outcome, fs.error?.message]),
    [
      [SRC, 'interrupted', 'interrupted', `interrupted by SIGINT during incr ${SRC}@s1 -> @s2 (step 1 of 1)`],
      [`${SRC}/a`, 'interrupted', 'interrupted', 'interrupted by SIGINT before it started'],
    ],
  );
});

test('a job that cannot start: the result rejects, and the status says why', async () => {
  const impl: Implementation<EndpointContract> = {
    ...unusedEndpoints(),
    async listVersionTree() {
      return { exists: false, filesystems: [], resumeTokens: {} };
    },
  };
  const handle = startInMemoryJob(impl, SRC, DST);
  await assert.rejects(handle.result, { code: 'SOURCE_NOT_FOUND' });
  const status = handle.status();
  assert.equal(status.state, 'failed');
  assert.deepEqual(status.error, { code: 'SOURCE_NOT_FOUND', message: `source filesystem ${SRC} does not exist` });
});

test('the result is the summary the runner always gave (--json prints it as it is), and the events are those it always sent', async () => {
  const events: ProgressEvent[] = [];
  const handle = startInMemoryJob(mixedTree(), SRC, DST, {
    recursive: true,
    snapshotName: 'zferry_x',
    onProgress: (event) => events.push(event),
    now: () => 0,
  });
  const summary = await handle.result;
  // JSON, so that the order of the keys counts too.
  assert.equal(JSON.stringify(summary, null, 1), JSON.stringify(EXPECTED_SUMMARY, null, 1));
  // Per filesystem: how several filesystems' events interleave is not promised.
  const eventsOf = (source: string) => events.filter((event) => (event.type === 'filesystem-done' ? event.result.source : event.filesystem) === source);
  assert.deepEqual(eventsOf(SRC), [
    { type: 'step-start', filesystem: SRC, step: `incr  ${SRC}@s1 -> @s2`, index: 0, total: 2 },
    { type: 'bytes', filesystem: SRC, bytes: 100 },
    { type: 'bytes', filesystem: SRC, bytes: 100 },
    { type: 'step-done', filesystem: SRC, step: `incr  ${SRC}@s1 -> @s2`, bytes: 100, durationMs: 0 },
    { type: 'step-start', filesystem: SRC, step: `incr  ${SRC}@s2 -> @s3`, index: 1, total: 2 },
    { type: 'bytes', filesystem: SRC, bytes: 100 },
    { type: 'bytes', filesystem: SRC, bytes: 100 },
    { type: 'step-done', filesystem: SRC, step: `incr  ${SRC}@s2 -> @s3`, bytes: 100, durationMs: 0 },
    { type: 'filesystem-done', result: EXPECTED_SUMMARY.filesystems[0] },
  ]);
  assert.deepEqual(eventsOf(`${SRC}/a`), [{ type: 'filesystem-done', result: EXPECTED_SUMMARY.filesystems[1] }]);
  assert.deepEqual(eventsOf(`${SRC}/b`), [
    { type: 'step-start', filesystem: `${SRC}/b`, step: `incr  ${SRC}/b@s1 -> @s2`, index: 0, total: 2 },
    { type: 'bytes', filesystem: `${SRC}/b`, bytes: 100 },
    { type: 'bytes', filesystem: `${SRC}/b`, bytes: 100 },
    { type: 'filesystem-done', result: EXPECTED_SUMMARY.filesystems[2] },
  ]);
  assert.deepEqual(eventsOf(`${SRC}/b/c`), [], 'it never ran');
});

/**
 * A tree of every kind of outcome: the root two steps behind (replicated), `a` up to date, `b`
 * failing to receive (out of space) and so `b/c` not run, a target whose source is gone, and a
 * sender that cannot move its cursors.
 */
function mixedTree(): Implementation<EndpointContract> {
  const source = new Map<string, FilesystemVersion[]>();
  const target = new Map<string, FilesystemVersion[]>();
  const three = (fs: string, g: number) => [version(fs, 's1', `${g}1`, 10), version(fs, 's2', `${g}2`, 20), version(fs, 's3', `${g}3`, 30)];
  source.set(SRC, three(SRC, 1));
  target.set(DST, [version(DST, 's1', '11', 5)]);
  source.set(`${SRC}/a`, [version(`${SRC}/a`, 's1', '21', 10)]);
  target.set(`${DST}/a`, [version(`${DST}/a`, 's1', '21', 5)]);
  source.set(`${SRC}/b`, three(`${SRC}/b`, 3));
  target.set(`${DST}/b`, [version(`${DST}/b`, 's1', '31', 5)]);
  source.set(`${SRC}/b/c`, three(`${SRC}/b/c`, 4));
  target.set(`${DST}/gone`, [version(`${DST}/gone`, 's1', '51', 5)]);
  return {
    ...unusedEndpoints(),
    async snapshot() {
      return {};
    },
    listVersionTree: listPools(SRC, source, target),
    async send() {
      return { response: {}, stream: Readable.from([Buffer.alloc(100, 1)]) };
    },
    async receive(req, stream) {
      for await (const _chunk of stream) {
        // drain
      }
      if (req.target === `${DST}/b`) throw Object.assign(new Error('out of space'), { code: 'ZFS_NO_SPACE' });
      const received = version(req.target, req.snapshotName, req.expectedGuid, 40);
      target.get(req.target)?.push(received);
      return req.deferVerification === true ? {} : { version: received };
    },
    async verifyReceived(req) {
      return {
        versions: req.snapshots.map((snapshot) => {
          const [fs, name] = snapshot.split('@') as [string, string];
          return target.get(fs)?.find((v) => v.name === name) ?? null;
        }),
      };
    },
    async moveCursors(req) {
      if (req.moves.some((move) => move.filesystem.startsWith(SRC))) throw Object.assign(new Error('pool busy'), { code: 'ZFS_BUSY' });
      return { released: 0 };
    },
  };
}

/** What the runner answered for mixedTree() before it had a handle (durations 0: the test's clock stands still). */
const EXPECTED_SUMMARY = {
  source: SRC,
  target: DST,
  dryRun: false,
  outcome: 'failed',
  filesystems: [
    {
      source: SRC,
      target: DST,
      outcome: 'replicated',
      plan: [`${SRC} -> ${DST}: incremental from @s1: 2 snapshots in 2 steps`, `incr  ${SRC}@s1 -> @s2`, `incr  ${SRC}@s2 -> @s3`],
      steps: [
        { kind: 'incremental', from: `${SRC}@s1`, to: `${SRC}@s2`, guid: '12', intermediates: false, bytes: 100, durationMs: 0 },
        { kind: 'incremental', from: `${SRC}@s2`, to: `${SRC}@s3`, guid: '13', intermediates: false, bytes: 100, durationMs: 0 },
      ],
      bytes: 200,
      durationMs: 0,
      actions: [],
    },
    {
      source: `${SRC}/a`,
      target: `${DST}/a`,
      outcome: 'up-to-date',
      plan: [`up-to-date  ${SRC}/a -> ${DST}/a (at @s1)`],
      steps: [],
      bytes: 0,
      durationMs: 0,
      actions: [],
    },
    {
      source: `${SRC}/b`,
      target: `${DST}/b`,
      outcome: 'failed',
      plan: [`${SRC}/b -> ${DST}/b: incremental from @s1: 2 snapshots in 2 steps`, `incr  ${SRC}/b@s1 -> @s2`, `incr  ${SRC}/b@s2 -> @s3`],
      steps: [],
      bytes: 0,
      durationMs: 0,
      actions: [],
      error: { code: 'ZFS_NO_SPACE', message: 'out of space' },
    },
    {
      source: `${SRC}/b/c`,
      target: `${DST}/b/c`,
      outcome: 'failed',
      plan: [],
      steps: [],
      bytes: 0,
      durationMs: 0,
      actions: [],
      error: { code: 'PARENT_FAILED', message: `not replicated: its parent ${SRC}/b failed` },
    },
  ],
  orphanedTargets: [`${DST}/gone`],
  bytes: 200,
  durationMs: 0,
  warnings: [
    `${DST}/gone exists on the target but its source no longer exists (left as it is)`,
    'could not move the replication cursor on the sender: pool busy',
  ],
  snapshot: `${SRC}@zferry_x`,
};
