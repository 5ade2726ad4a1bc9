/**
 * The send stream of the endpoint on real ZFS: read through this process, or handed to a
 * same-host receive that lets zfs send write straight into zfs recv. Either way the data
 * arrives intact, failures name their real cause, and nothing is left running.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Writable } from 'node:stream';
import pino from 'pino';
import { createSendStream } from '../../../replication/endpoint/send-stream.js';
import { directSendOf, parseReceivedBytes, ZfsDriver, type SendOptions } from '../../../replication/zfs/index.js';
import { createDataset, hashFile, listAll, snapshot, usePool, writeFile, zfsProcesses } from '../../helpers/zfs-pool.js';
import { memoryLogger } from '../../helpers/zfs-logger.js';
import { childProcesses } from '../../helpers/processes.js';
import { waitFor } from '../../helpers/rpc-util.js';

/**
 * Children of this process running `command`, reaped or not. Node reaps a child and runs its exit
 * handlers in the same turn, so once none is left, whatever a child's exit leads to has happened.
 */
function childProcessesRunning(command: string): number[] {
  return childProcesses(process.pid)
    .filter((child) => child.command === command)
    .map((child) => child.pid);
}

test('zfs recv -v sizes parse for zfs-fuse and OpenZFS wording', () => {
  assert.equal(parseReceivedBytes('receiving full stream of a@1 into b@1\nreceived 3.39MB stream in 1 seconds (3.39MB/sec)\n'), Math.round(3.39 * 1024 ** 2));
  assert.equal(parseReceivedBytes('received 3.39M stream in 0.12 seconds (28.2M/sec)'), Math.round(3.39 * 1024 ** 2));
  assert.equal(parseReceivedBytes('received 312B stream in 1 seconds (312B/sec)'), 312);
  assert.equal(parseReceivedBytes('received 1.50G stream in 9 seconds'), Math.round(1.5 * 1024 ** 3));
  assert.equal(parseReceivedBytes('nothing useful'), undefined);
});

describe('send stream: piped or direct (real zfs)', () => {
  const ctx = usePool({ sizeMiB: 256 });
  const driver = new ZfsDriver();
  const logger = pino({ level: 'silent' });
  let counter = 0;

  async function source(): Promise<{ fs: string; guid: string; hash: string }> {
    const fs = await createDataset(ctx.pool.dataset(`src${++counter}`));
    await writeFile(fs, 'data.bin', 3 * 1024 * 1024);
    const guid = await snapshot(`${fs}@s1`);
    return { fs, guid, hash: await hashFile(fs, 'data.bin') };
  }

  const stream = (options: SendOptions) =>
    createSendStream({ piped: () => driver.send({ ...options, readNow: true }), into: (sink: Writable) => driver.sendInto(options, sink) }, logger, 'test');

  test('offered to a receiver before anything is read: zfs send writes straight into zfs recv', async () => {
    const { fs, guid, hash } = await source();
    const target = `${fs}-copy`;
    const sendStream = stream({ snapshot: `${fs}@s1` });
    assert.ok(directSendOf(sendStream), 'an unread stream offers the direct route');
    const result = await driver.receive({ target, snapshotName: 's1', expectedGuid: guid, unmounted: false }, sendStream);
    assert.equal(result.version?.guid, guid);
    // zfs rounds the size it reports to three digits.
    assert.ok(result.streamBytes !== undefined && Math.abs(result.streamBytes - 3 * 1024 * 1024) < 0.05 * 3 * 1024 * 1024, String(result.streamBytes));
    assert.equal(await hashFile(target, 'data.bin'), hash);
    assert.deepEqual(zfsProcesses(fs), [], 'no zfs process left running');
  });

  test('direct route: a full stream gets a larger socket buffer between zfs send and zfs recv, an incremental does not', async () => {
    const { fs, guid } = await source();
    await writeFile(fs, 'more.bin', 1024 * 1024);
    const guid2 = await snapshot(`${fs}@s2`);
    const target = `${fs}-buffered`;
    const { logger: debugLogger, records } = memoryLogger('debug');
    const logged = new ZfsDriver({ logger: debugLogger });
    const bufferRecords = () => records.filter((r) => /larger socket buffer/.test(String(r.msg)));
    await logged.receive({ target, snapshotName: 's1', expectedGuid: guid, unmounted: false }, stream({ snapshot: `${fs}@s1` }));
    await waitFor(() => bufferRecords().length > 0, 'the buffer helper reported');
    assert.equal(bufferRecords()[0]?.['granted'], true, 'the kernel granted it (root: SO_SNDBUFFORCE)');
    await logged.receive(
      { target, snapshotName: 's2', expectedGuid: guid2, incrementalBase: { guid }, unmounted: false },
      stream({ snapshot: `${fs}@s2`, from: `${fs}@s1` }),
    );
    // A helper would have been started before the receive returned: once no perl child of
    // ours is left (running or unreaped), any report it made is in the records.
    await waitFor(() => childProcessesRunning('perl').length === 0, 'no buffer helper left');
    assert.equal(bufferRecords().length, 1, 'no helper for the incremental');
  });

  test('once read, the stream is piped through this process and offers no direct route', async () => {
    const { fs, guid, hash } = await source();
    const target = `${fs}-copy`;
    const sendStream = stream({ snapshot: `${fs}@s1` });
    sendStream.pause();
    sendStream.read(0);
    assert.equal(directSendOf(sendStream), undefined);
    const result = await driver.receive({ target, snapshotName: 's1', expectedGuid: guid, unmounted: false }, sendStream);
    assert.equal(result.streamBytes, undefined, 'counted by whoever read it, not reported by zfs');
    assert.equal(await hashFile(target, 'data.bin'), hash);
  });

  test('direct route, failing send: the send error is the cause and the target stays untouched', async () => {
    const { fs, guid } = await source();
    const target = `${fs}-copy`;
    const before = await listAll(ctx.pool.name);
    // The incremental base does not exist: zfs send fails before writing a byte.
    const sendStream = stream({ snapshot: `${fs}@s1`, from: `${fs}@missing` });
    await assert.rejects(
      driver.receive({ target, snapshotName: 's1', expectedGuid: guid }, sendStream),
      (error: Error) => /input stream failed/.test(error.message) && /missing|does not exist|could not find/i.test(error.message),
    );
    assert.deepEqual(await listAll(ctx.pool.name), before, 'nothing was created or changed in the pool');
    assert.deepEqual(zfsProcesses(fs), []);
  });

  test('direct route, failing receive: the receive error is the cause, and the send stops', async () => {
    const { fs, guid } = await source();
    const target = `${fs}-copy`;
    await driver.receive({ target, snapshotName: 's1', expectedGuid: guid, unmounted: false }, stream({ snapshot: `${fs}@s1` }));
    await writeFile(fs, 'more.bin', 1024 * 1024);
    const guid2 = await snapshot(`${fs}@s2`);
    // Modify the target: an incremental into it must fail with zfs recv's own reason.
    await writeFile(target, 'local-change.bin', 64 * 1024);
    await assert.rejects(
      driver.receive(
        { target, snapshotName: 's2', expectedGuid: guid2, incrementalBase: { guid }, unmounted: false },
        stream({ snapshot: `${fs}@s2`, from: `${fs}@s1` }),
      ),
      (error: Error & { code?: string }) => error.code === 'ZFS_TARGET_MODIFIED',
    );
    assert.deepEqual(zfsProcesses(fs), []);
  });
});
