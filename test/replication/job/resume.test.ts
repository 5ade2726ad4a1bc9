// The job's resume logic, against in-memory endpoints (zfs-fuse cannot resume a receive, so
// the live tests only cover the restart path; this covers what OpenZFS pools do).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Implementation } from '../../../rpc/index.js';
import type { EndpointContract } from '../../../replication/contract.js';
import { runInMemoryJob, snapshotVersion as version, unusedEndpoints } from '../../helpers/in-memory-job.js';

const SRC = 'tank/data';
const DST = 'backup/data';

interface Calls {
  sends: { snapshot: string; from?: string | undefined; resumeToken?: string | undefined }[];
  receives: number;
  aborted: string[];
}

/** One endpoint playing both roles over two in-memory "pools". */
function fakeEndpoint(options: { token?: string; failResumedReceive?: { code: string } }): { impl: Implementation<EndpointContract>; calls: Calls } {
  const calls: Calls = { sends: [], receives: 0, aborted: [] };
  const source = [version(SRC, 's1', '101', 10), version(SRC, 's2', '102', 20)];
  const target = [version(DST, 's1', '101', 5)];
  let token = options.token;
  const impl: Implementation<EndpointContract> = {
    ...unusedEndpoints(),
    async listVersionTree(req) {
      if (req.root === SRC) return { exists: true, filesystems: [{ name: SRC, versions: source }], resumeTokens: {} };
      return { exists: true, filesystems: [{ name: DST, versions: target }], resumeTokens: token ? { [DST]: token } : {} };
    },
    async send(req) {
      calls.sends.push({ snapshot: req.snapshot, from: req.from, resumeToken: req.resumeToken });
      return { response: {}, stream: Readable.from([Buffer.alloc(1000, 1)]) };
    },
    async receive(req, stream) {
      calls.receives += 1;
      for await (const _chunk of stream) {
        // drain
      }
      if (token !== undefined && options.failResumedReceive) {
        throw Object.assign(new Error('resumed stream did not verify'), options.failResumedReceive);
      }
      token = undefined;
      const received = version(DST, req.snapshotName, req.expectedGuid, 30);
      target.push(received);
      return { version: received };
    },
    async abortPartialReceive(req) {
      calls.aborted.push(req.filesystem);
      token = undefined;
      return {};
    },
    async moveCursors() {
      return { released: 0 };
    },
  };
  return { impl, calls };
}

function run(impl: Implementation<EndpointContract>) {
  return runInMemoryJob(impl, SRC, DST);
}

test('an interrupted receive is resumed from its token', async () => {
  const { impl, calls } = fakeEndpoint({ token: '1-abc-def' });
  const summary = await run(impl);
  assert.equal(summary.outcome, 'ok');
  assert.deepEqual(calls.sends, [{ snapshot: `${SRC}@s2`, from: undefined, resumeToken: '1-abc-def' }]);
  assert.equal(summary.filesystems[0]?.steps[0]?.resumed, true);
  assert.deepEqual(calls.aborted, []);
});

test('a token that does not lead to the planned snapshot is discarded and the step restarts', async () => {
  const { impl, calls } = fakeEndpoint({ token: '1-abc-def', failResumedReceive: { code: 'ZFS_RECEIVE_UNVERIFIED' } });
  const summary = await run(impl);
  assert.equal(summary.outcome, 'ok');
  assert.deepEqual(calls.aborted, [DST]);
  assert.deepEqual(
    calls.sends.map((s) => [s.snapshot, s.from, s.resumeToken]),
    [
      [`${SRC}@s2`, undefined, '1-abc-def'],
      [`${SRC}@s2`, `${SRC}@s1`, undefined],
    ],
  );
  assert.equal(summary.filesystems[0]?.steps[0]?.resumed, undefined);
});

test('no token: a plain incremental, nothing aborted', async () => {
  const { impl, calls } = fakeEndpoint({});
  const summary = await run(impl);
  assert.equal(summary.outcome, 'ok');
  assert.deepEqual(
    calls.sends.map((s) => s.resumeToken),
    [undefined],
  );
  assert.deepEqual(calls.aborted, []);
});
