// The last step of each filesystem is verified by the job, all at once, after the transfers
// (in-memory endpoints: they can answer what a misbehaving receiver would). A snapshot that is
// missing or not the one sent fails its filesystem and its cursor does not move.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Implementation } from '../../../rpc/index.js';
import type { EndpointContract } from '../../../replication/contract.js';
import type { ProgressEvent } from '../../../replication/job/types.js';
import type { FilesystemVersion } from '../../../replication/zfs/types.js';
import { listPools, runInMemoryJob, snapshotVersion as version, unusedEndpoints } from '../../helpers/in-memory-job.js';

const SRC = 'tank/data';
const DST = 'backup/data';
const CHILDREN = ['a', 'b', 'c'];

type Answer = 'truthful' | 'wrong-guid' | 'missing' | 'short' | 'fails';

/** A tree of three children, each one incremental behind; the receiver answers verifyReceived as told. */
function fakeEndpoint(answer: Answer) {
  const calls = { deferredReceives: 0, immediateReceives: 0, verifyCalls: [] as string[][], cursorMoves: [] as string[][] };
  const source = new Map<string, FilesystemVersion[]>();
  const target = new Map<string, FilesystemVersion[]>();
  for (const [i, name] of ['', ...CHILDREN.map((c) => `/${c}`)].entries()) {
    source.set(`${SRC}${name}`, [
      version(`${SRC}${name}`, 's1', `10${i}`, 10),
      version(`${SRC}${name}`, 's2', `20${i}`, 20),
      version(`${SRC}${name}`, 's3', `30${i}`, 30),
    ]);
    target.set(`${DST}${name}`, [version(`${DST}${name}`, 's1', `10${i}`, 5)]);
  }
  const impl: Implementation<EndpointContract> = {
    ...unusedEndpoints(),
    listVersionTree: listPools(SRC, source, target),
    async send() {
      return { response: {}, stream: Readable.from([Buffer.alloc(100, 1)]) };
    },
    async receive(req, stream) {
      for await (const _chunk of stream) {
        // drain
      }
      const guid = answer === 'wrong-guid' && req.target === `${DST}/b` && req.snapshotName === 's3' ? '999' : req.expectedGuid;
      const received = version(req.target, req.snapshotName, guid, 40);
      if (answer !== 'missing' || req.target !== `${DST}/b` || req.snapshotName !== 's3') target.get(req.target)?.push(received);
      if (req.deferVerification === true) {
        calls.deferredReceives += 1;
        return {};
      }
      calls.immediateReceives += 1;
      return { version: received };
    },
    async verifyReceived(req) {
      calls.verifyCalls.push(req.snapshots);
      if (answer === 'fails') throw Object.assign(new Error('receiver went away'), { code: 'GONE' });
      const versions = req.snapshots.map((snapshot) => {
        const [fs, name] = snapshot.split('@') as [string, string];
        return target.get(fs)?.find((v) => v.name === name) ?? null;
      });
      return { versions: answer === 'short' ? versions.slice(1) : versions };
    },
    async moveCursors(req) {
      calls.cursorMoves.push(req.moves.map((m) => m.filesystem));
      return { released: 0 };
    },
  };
  return { impl, calls };
}

function run(impl: Implementation<EndpointContract>, events: ProgressEvent[] = []) {
  return runInMemoryJob(impl, SRC, DST, { recursive: true, concurrency: 2, onProgress: (event) => events.push(event) });
}

test('each last step is checked in one call after the transfers; earlier steps at once', async () => {
  const { impl, calls } = fakeEndpoint('truthful');
  const events: ProgressEvent[] = [];
  const summary = await run(impl, events);
  assert.equal(summary.outcome, 'ok');
  assert.deepEqual(
    summary.filesystems.map((fs) => fs.outcome),
    ['replicated', 'replicated', 'replicated', 'replicated'],
  );
  // s1 -> s2 checked at once, s2 -> s3 (the last) deferred, for each of the four filesystems.
  assert.equal(calls.immediateReceives, 4);
  assert.equal(calls.deferredReceives, 4);
  assert.deepEqual(calls.verifyCalls, [[`${DST}@s3`, `${DST}/a@s3`, `${DST}/b@s3`, `${DST}/c@s3`]]);
  // Done only once verified: every filesystem-done event comes after the last step-done.
  const kinds = events.map((e) => e.type);
  assert.equal(kinds.filter((k) => k === 'filesystem-done').length, 4);
  assert.ok(kinds.indexOf('filesystem-done') > kinds.lastIndexOf('step-done'), kinds.join(' '));
});

for (const [answer, code] of [
  ['wrong-guid', 'STEP_UNVERIFIED'],
  ['missing', 'STEP_UNVERIFIED'],
] as const) {
  test(`a receiver whose snapshot is ${answer === 'missing' ? 'missing' : 'not the one sent'}: that filesystem fails, its cursor stays`, async () => {
    const { impl, calls } = fakeEndpoint(answer);
    const summary = await run(impl);
    assert.equal(summary.outcome, 'failed');
    const b = summary.filesystems.find((fs) => fs.target === `${DST}/b`);
    assert.equal(b?.outcome, 'failed');
    assert.equal(b?.error?.code, code);
    assert.match(b?.error?.message ?? '', new RegExp(`${DST}/b@s3`));
    for (const fs of summary.filesystems.filter((f) => f.target !== `${DST}/b`)) assert.equal(fs.outcome, 'replicated', fs.target);
    for (const moves of calls.cursorMoves) {
      assert.ok(!moves.includes(`${DST}/b`) && !moves.includes(`${SRC}/b`), `no cursor move for b: ${moves.join(' ')}`);
    }
  });
}

for (const answer of ['short', 'fails'] as const) {
  test(`a receiver that ${answer === 'short' ? 'answers too few versions' : 'cannot be asked'}: nothing counts as verified`, async () => {
    const { impl, calls } = fakeEndpoint(answer);
    const summary = await run(impl);
    assert.equal(summary.outcome, 'failed');
    assert.deepEqual(
      summary.filesystems.map((fs) => fs.outcome),
      ['failed', 'failed', 'failed', 'failed'],
    );
    assert.equal(summary.filesystems[0]?.error?.code, answer === 'short' ? 'UNTRUSTED_ANSWER' : 'GONE');
    assert.deepEqual(calls.cursorMoves, []);
  });
}
