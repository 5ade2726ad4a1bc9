/**
 * A `zfs send` that dies by a signal leaves zfs-fuse's `.send-<pid>-0` holds on the snapshots
 * of its stream (a send that ends by itself releases them): the driver releases them before the
 * send's `done` settles, so nothing is left that no cursor accounts for.
 */
import { describe, test } from 'node:test';
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
    const send = driver.send({ snapshot: `${fs}@s3`, from: `${fs}@s1`, intermediates: true });
    // Read a little, then stop reading: the send is blocked mid-stream, holding its snapshots.
    const first = await new Promise<Buffer>((resolve) => send.stream.once('data', resolve));
    send.stream.pause();
    assert.ok(first.length > 0);
    const pid = send.pid;
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    await send.done.catch(() => undefined);
    send.stream.destroy();
    assert.deepEqual(await waitForNoZfsProcesses(src.pool.name, 5000), []);
    assert.deepEqual(
      Object.entries(await userrefsBelow(fs)).filter(([, refs]) => refs > 0),
      [],
      'the killed send left no hold',
    );
  });
});
