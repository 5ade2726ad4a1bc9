/**
 * Aborting running transfers of a large (200 MiB) stream: the send or the receive stops
 * midway, no zfs process is left, nothing partial is left on the target, the pools stay
 * usable and a retry from zero succeeds.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZfsDriver, ZfsAbortedError } from '../../../replication/zfs/index.js';
import { createDataset, datasetExists, listAll, listSnapshots, snapshot, usePool, waitForNoZfsProcesses, writeFile, zfs } from '../../helpers/zfs-pool.js';

const BIG = 200 * 1024 * 1024;

/**
 * Counts the bytes `stream` delivers until it closes (observed, not consumed): `reached`
 * resolves once `count` went by, `total` with every byte delivered up to the close. An abort
 * that does not stop the stream shows in `total`, never in `reached`.
 */
function observeBytes(stream: Readable, count: number): { reached: Promise<number>; total: Promise<number> } {
  let seen = 0;
  let onReached: (n: number) => void = () => undefined;
  const reached = new Promise<number>((resolve) => {
    onReached = resolve;
  });
  stream.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen >= count) onReached(seen);
  });
  const total = new Promise<number>((resolve) => stream.once('close', () => resolve(seen)));
  return { reached, total };
}

/**
 * A pass-through that counts the bytes on their way to a receiver: `reached` resolves at
 * `count`, `total` with every byte passed on until the pass-through closes. Observing the
 * send stream directly would start it flowing before the receiver is attached.
 */
function counting(count: number): { stream: Transform; reached: Promise<number>; total: Promise<number> } {
  let seen = 0;
  let onReached: (n: number) => void = () => undefined;
  const reached = new Promise<number>((resolve) => {
    onReached = resolve;
  });
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen >= count) onReached(seen);
      callback(null, chunk);
    },
  });
  const total = new Promise<number>((resolve) => stream.once('close', () => resolve(seen)));
  return { stream, reached, total };
}

describe('aborting transfers (real zfs, 200 MiB stream)', () => {
  const src = usePool({ sizeMiB: 384 });
  const dst = usePool({ sizeMiB: 384 });
  const driver = new ZfsDriver();
  let fs = '';
  const guid: Record<string, string> = {};

  before(async () => {
    fs = await createDataset(src.pool.dataset('data'));
    await writeFile(fs, 'small', 64 * 1024);
    guid.s1 = await snapshot(`${fs}@s1`);
    await writeFile(fs, 'big', BIG);
    guid.s2 = await snapshot(`${fs}@s2`);
  });

  async function assertNoZfsLeft(): Promise<void> {
    assert.deepEqual(await waitForNoZfsProcesses(src.pool.name), [], `zfs processes left on ${src.pool.name}`);
    assert.deepEqual(await waitForNoZfsProcesses(dst.pool.name), [], `zfs processes left on ${dst.pool.name}`);
  }

  test('abort() of a running send stops it midway', async () => {
    await snapshot(`${fs}@abort1`);
    const send = driver.send({ snapshot: `${fs}@abort1` });
    const observed = observeBytes(send.stream, 32 * 1024 * 1024);
    await observed.reached;
    send.abort(new Error('operator cancelled'));
    await assert.rejects(send.done, (error: unknown) => {
      assert.ok(error instanceof ZfsAbortedError, String(error));
      assert.match(error.message, /operator cancelled/);
      assert.equal((error.cause as Error).message, 'operator cancelled');
      return true;
    });
    assert.equal(send.stream.destroyed, true);
    const delivered = await observed.total;
    assert.ok(delivered < BIG, `aborted before the end: ${delivered} bytes delivered of a stream larger than ${BIG}`);
    await assertNoZfsLeft();
    // Nothing holds the snapshot any more.
    await zfs('destroy', `${fs}@abort1`);
  });

  test('an AbortSignal stops a send; a reader closing the stream stops it too', async () => {
    const controller = new AbortController();
    const send = driver.send({ snapshot: `${fs}@s2`, signal: controller.signal });
    const observed = observeBytes(send.stream, 8 * 1024 * 1024);
    await observed.reached;
    controller.abort('deadline');
    await assert.rejects(send.done, ZfsAbortedError);
    assert.ok((await observed.total) < BIG, 'the signal stopped the stream before its end');

    const closed = driver.send({ snapshot: `${fs}@s2` });
    await observeBytes(closed.stream, 8 * 1024 * 1024).reached;
    closed.stream.destroy();
    await assert.rejects(closed.done, (error: unknown) => {
      assert.ok(error instanceof ZfsAbortedError, String(error));
      assert.match(error.message, /reader closed the stream/);
      return true;
    });
    await assertNoZfsLeft();
  });

  test('aborting a full receive midway leaves no dataset behind', async () => {
    const before = await listAll(dst.pool.name);
    const target = dst.pool.dataset('full');
    const controller = new AbortController();
    const send = driver.send({ snapshot: `${fs}@s2` });
    const counter = counting(64 * 1024 * 1024);
    // pipeline, not pipe: when the receiver closes the counter, the send stream closes too.
    pipeline(send.stream, counter.stream).catch(() => undefined);
    const receiving = driver.receive({ target, snapshotName: 's2', expectedGuid: guid.s2 as string, signal: controller.signal }, counter.stream);
    await counter.reached;
    controller.abort(new Error('shutting down'));
    await assert.rejects(receiving, (error: unknown) => {
      assert.ok(error instanceof ZfsAbortedError, String(error));
      assert.match(error.message, /shutting down/);
      return true;
    });
    const delivered = await counter.total;
    assert.ok(delivered < BIG, `aborted before the end: ${delivered} bytes went to the receiver of a stream larger than ${BIG}`);
    await assert.rejects(send.done, ZfsAbortedError);
    await assertNoZfsLeft();
    assert.equal(await datasetExists(target), false);
    assert.deepEqual(await listAll(dst.pool.name), before, 'no partial or hidden dataset');
  });

  test('aborting an incremental receive keeps the target at its base; the retry succeeds', async () => {
    const target = dst.pool.dataset('inc');
    const first = driver.send({ snapshot: `${fs}@s1` });
    await Promise.all([driver.receive({ target, snapshotName: 's1', expectedGuid: guid.s1 as string }, first.stream), first.done]);

    const controller = new AbortController();
    const send = driver.send({ snapshot: `${fs}@s2`, from: `${fs}@s1` });
    const counter = counting(64 * 1024 * 1024);
    pipeline(send.stream, counter.stream).catch(() => undefined);
    const receiving = driver.receive(
      { target, snapshotName: 's2', expectedGuid: guid.s2 as string, incrementalBase: { guid: guid.s1 as string }, signal: controller.signal },
      counter.stream,
    );
    await counter.reached;
    controller.abort();
    await assert.rejects(receiving, ZfsAbortedError);
    assert.ok((await counter.total) < BIG, 'aborted before the end');
    await assert.rejects(send.done, ZfsAbortedError);
    await assertNoZfsLeft();
    assert.deepEqual(
      (await listSnapshots(target)).map((s) => s.guid),
      [guid.s1],
    );

    const retry = driver.send({ snapshot: `${fs}@s2`, from: `${fs}@s1` });
    const [result] = await Promise.all([
      driver.receive({ target, snapshotName: 's2', expectedGuid: guid.s2 as string, incrementalBase: { guid: guid.s1 as string } }, retry.stream),
      retry.done,
    ]);
    assert.equal(result.version?.guid, guid.s2);
    await assertNoZfsLeft();
  });
});
