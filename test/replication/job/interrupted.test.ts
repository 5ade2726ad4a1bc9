// A job whose signal fires mid-run, against in-memory endpoints (a tree whose filesystems are
// stopped at known points, which real transfers cannot time): the summary says what finished,
// what was stopped in which step and what never started, and no cursor moves.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Implementation } from '../../../rpc/index.js';
import type { EndpointContract } from '../../../replication/contract.js';
import { listOneSnapshotBehind, runInMemoryJob, snapshotVersion as version, startInMemoryJob, unusedEndpoints } from '../../helpers/in-memory-job.js';

const SRC = 'tank/data';
const DST = 'backup/data';
const CHILDREN = ['a', 'b'];

test('interrupted mid-tree: done stays done, the running filesystem names its step, the rest never started, no cursor moves', async () => {
  const controller = new AbortController();
  const names = [SRC, ...CHILDREN.map((child) => `${SRC}/${child}`)];
  const received: string[] = [];
  let cursorMoves = 0;
  const impl: Implementation<EndpointContract> = {
    ...unusedEndpoints(),
    listVersionTree: listOneSnapshotBehind(SRC, DST, names),
    async send() {
      return { response: {}, stream: Readable.from([Buffer.alloc(1000, 1)]) };
    },
    async receive(req, stream, ctx) {
      for await (const _chunk of stream) {
        // drain
      }
      if (req.target === `${DST}/a`) {
        // The interrupt lands while this receive runs: it ends only because of it.
        controller.abort(new Error('interrupted by SIGINT'));
        if (!ctx.signal.aborted) await once(ctx.signal, 'abort');
        throw Object.assign(new Error('zfs receive aborted'), { code: 'ZFS_ABORTED' });
      }
      received.push(req.target);
      return { version: version(req.target, req.snapshotName, req.expectedGuid, 30) };
    },
    async verifyReceived(req) {
      return {
        versions: req.snapshots.map((snapshot) =>
          received.includes(snapshot.split('@')[0] ?? '') ? version(snapshot.split('@')[0] ?? '', 's2', '102', 30) : null,
        ),
      };
    },
    async moveCursors() {
      cursorMoves += 1;
      return { released: 0 };
    },
  };

  const summary = await runInMemoryJob(impl, SRC, DST, { recursive: true, concurrency: 1, signal: controller.signal });

  assert.equal(summary.outcome, 'interrupted');
  const outcomes = Object.fromEntries(summary.filesystems.map((fs) => [fs.source, [fs.outcome, fs.error?.code, fs.error?.message]]));
  assert.deepEqual(outcomes, {
    [SRC]: ['replicated', undefined, undefined],
    [`${SRC}/a`]: ['interrupted', 'INTERRUPTED', `interrupted by SIGINT during incr ${SRC}/a@s1 -> @s2 (step 1 of 1)`],
    [`${SRC}/b`]: ['interrupted', 'INTERRUPTED', 'interrupted by SIGINT before it started'],
  });
  assert.equal(cursorMoves, 0, 'the cursors stay on the bases both sides hold');
  assert.deepEqual(summary.warnings, [], 'not even tried (an aborted call would only add a warning)');
});

test('interrupted while listing: a summary all the same, with nothing replicated', async () => {
  const controller = new AbortController();
  const impl: Implementation<EndpointContract> = {
    ...unusedEndpoints(),
    async listVersionTree(_req, ctx) {
      controller.abort(new Error('interrupted by SIGTERM'));
      await once(ctx.signal, 'abort');
      throw Object.assign(new Error('listing aborted'), { code: 'ZFS_ABORTED' });
    },
  };
  const handle = startInMemoryJob(impl, SRC, DST, { signal: controller.signal });
  const summary = await handle.result;
  assert.equal(summary.outcome, 'interrupted');
  assert.deepEqual(summary.filesystems, []);
  assert.deepEqual({ ...handle.status(), startedAt: 0 }, { source: SRC, target: DST, state: 'interrupted', startedAt: 0, bytes: 0, filesystems: [] });
  assert.deepEqual(summary.warnings, ['interrupted by SIGTERM while listing and preparing: no filesystem was replicated']);
});
