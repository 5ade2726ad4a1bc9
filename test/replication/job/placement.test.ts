// Which pool each side is on is settled before the job changes anything (in-memory endpoints:
// they can be slow on purpose, or answer pool guids a single host cannot show, such as two
// pools with one name on two hosts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Implementation } from '../../../rpc/index.js';
import { localClient } from '../../../rpc/index.js';
import { endpointContract, type EndpointContract } from '../../../replication/contract.js';
import { OverlappingTargetError } from '../../../replication/planner/index.js';
import { runInMemoryJob, snapshotVersion as version, unusedEndpoints } from '../../helpers/in-memory-job.js';

/** Names of the endpoint calls that change something. */
const CHANGING = ['snapshot', 'ensureParent', 'receive', 'rollback', 'rename', 'moveCursors', 'send'] as const;

/** One side: `tank/a` with one snapshot (and a child `tank/a/b`), on the pool with `guid`; records every call. */
function side(guid: string | null, options: { delayMs?: number } = {}) {
  const calls: string[] = [];
  const impl: Implementation<EndpointContract> = {
    ...unusedEndpoints(),
    async poolIdentity() {
      calls.push('poolIdentity');
      if (options.delayMs !== undefined) await sleep(options.delayMs);
      return { guid };
    },
    async listVersionTree(req) {
      calls.push('listVersionTree');
      if (req.root !== 'tank/a') return { exists: false, filesystems: [], resumeTokens: {} };
      return { exists: true, filesystems: [{ name: 'tank/a', versions: [version('tank/a', 's1', '101', 10)] }], resumeTokens: {} };
    },
  };
  for (const name of CHANGING) {
    const original = impl[name] as (...args: never[]) => unknown;
    (impl as unknown as Record<string, unknown>)[name] = (...args: never[]) => {
      calls.push(name);
      return original(...args);
    };
  }
  return { client: localClient(endpointContract, impl), calls };
}

const changed = (calls: string[]) => calls.filter((call) => (CHANGING as readonly string[]).includes(call));

test('the same names on pools with different guids (two hosts) replicate as usual', async () => {
  const sender = side('111');
  const receiver = side('222');
  const summary = await runInMemoryJob(unusedEndpoints(), 'tank/a', 'tank/a', { sender: sender.client, receiver: receiver.client, dryRun: true });
  assert.equal(summary.outcome, 'ok');
  assert.deepEqual(
    summary.filesystems.map((fs) => fs.outcome),
    ['up-to-date'],
  );
});

for (const [target, overlap] of [
  ['tank/a', 'same'],
  ['tank/a/copy', 'target-inside-source'],
  ['tank', 'source-inside-target'],
] as const) {
  for (const dryRun of [false, true]) {
    test(`one pool guid on both sides, target ${target}${dryRun ? ' (dry run)' : ''}: refused before anything changes, however slow the answer`, async () => {
      const sender = side('111');
      // The receiver answers last: the job must still wait for it before snapshotting.
      const receiver = side('111', { delayMs: 50 });
      await assert.rejects(
        runInMemoryJob(unusedEndpoints(), 'tank/a', target, {
          sender: sender.client,
          receiver: receiver.client,
          recursive: true,
          snapshotName: 'zferry_now',
          dryRun,
          plan: { initial: 'all', onDiverged: 'rename', batch: false },
        }),
        (error: unknown) => {
          assert.ok(error instanceof OverlappingTargetError, String(error));
          assert.equal(error.code, 'OVERLAPPING_TARGET');
          assert.equal(error.overlap, overlap);
          return true;
        },
      );
      assert.deepEqual(changed(sender.calls), [], 'nothing changed on the sender');
      assert.deepEqual(changed(receiver.calls), [], 'nothing changed on the receiver');
      assert.ok(sender.calls.includes('poolIdentity') && receiver.calls.includes('poolIdentity'));
    });
  }
}

test('a target pool that does not exist is named before any snapshot is taken', async () => {
  const sender = side('111');
  const receiver = side(null);
  await assert.rejects(
    runInMemoryJob(unusedEndpoints(), 'tank/a', 'nopool/x', { sender: sender.client, receiver: receiver.client, snapshotName: 'zferry_now' }),
    (error: unknown) => {
      assert.equal((error as { code?: string }).code, 'TARGET_POOL_NOT_FOUND');
      assert.equal((error as Error).message, "pool 'nopool' does not exist (target nopool/x)");
      return true;
    },
  );
  assert.deepEqual(changed(sender.calls), []);
  assert.deepEqual(changed(receiver.calls), []);
});

test('a source pool that does not exist is a missing source, before any snapshot is tried', async () => {
  const sender = side(null);
  const receiver = side('222');
  await assert.rejects(
    runInMemoryJob(unusedEndpoints(), 'nopool/a', 'backup/a', { sender: sender.client, receiver: receiver.client, snapshotName: 'zferry_now' }),
    (error: unknown) => {
      assert.equal((error as { code?: string }).code, 'SOURCE_NOT_FOUND');
      assert.match((error as Error).message, /nopool\/a does not exist: pool 'nopool' does not exist/);
      return true;
    },
  );
  assert.deepEqual(changed(sender.calls), []);
});
