/**
 * A `zfs send` that dies by a signal leaves zfs-fuse's `.send-<pid>-0` holds on the snapshots
 * of its stream (a send that ends by itself releases them): the driver releases them before the
 * send's `done` settles, so nothing is left that no cursor accounts for.
 */
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { ZfsDriver } from '../../../replication/zfs/index.js';
import { createDataset, snapshot, userrefsBelow, usePool, waitForNoZfsProcesses, writeFile } from '../../helpers/zfs-pool.js';

const MiB = 1024 * 1024;

describe('holds of a zfs send killed by a signal (real zfs)', () => {
  const src = usePool({ sizeMiB: 256 });
  const driver = new ZfsDriver();

  test('SIGKILL mid-stream: done settles with no hold left on any snapshot of the stream', async () => {
    const fs = await createDataset(src.pool.dataset('killed'));
    await writeFile(fs, 'a', MiB);
    await snapshot(`${fs}@s1`);
    await writeFile(fs, 'b', 32 * MiB);
    await snapshot(`${fs}@s2`);
    await writeFile(fs, 'c', 32 * MiB);
    await snapshot(`${fs}@s3`);
    // zfs-fuse's daemon does the sending for the client process: killed, the client does not stop
    // the stream, which the daemon writes to its end, but it no longer releases the holds.
    const send = driver.send({ snapshot: `${fs}@s3`, from: `${fs}@s1`, intermediates: true });
    const pid = send.pid;
    assert.ok(pid !== undefined);
    const drained = new Promise<void>((resolve) => send.stream.once('close', resolve));
    // Unread, the stream stops on a full pipe, mid-stream, holds in place.
    const deadline = Date.now() + 30_000;
    while ((await userrefsBelow(fs))[`${fs}@s3`] !== 1) {
      assert.ok(Date.now() < deadline, 'the send never held its snapshots');
      await sleep(20);
    }
    process.kill(pid, 'SIGKILL');
    send.stream.resume();
    await send.done.catch(() => undefined);
    await drained;
    assert.deepEqual(await waitForNoZfsProcesses(src.pool.name, 5000), []);
    assert.deepEqual(
      Object.entries(await userrefsBelow(fs)).filter(([, refs]) => refs > 0),
      [],
      'the killed send left no hold',
    );
  });
});
