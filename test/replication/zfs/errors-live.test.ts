/**
 * Typed errors provoked for real: out of space, permission denied, daemon not running.
 * (Dataset missing, destination exists, target modified, incremental mismatch, source
 * missing, invalid stream, busy and hold errors are provoked in driver-basic and
 * send-receive.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZfsDriver, DaemonNotRunningError, OutOfSpaceError, PermissionDeniedError } from '../../../replication/zfs/index.js';
import { createDataset, datasetExists, listAll, snapshot, usePool, writeFile } from '../../helpers/zfs-pool.js';
import { createZfsWrapper } from '../../helpers/zfs-wrappers.js';

describe('typed errors from real failures', () => {
  const big = usePool({ sizeMiB: 160 });
  const small = usePool({ sizeMiB: 64 });
  const driver = new ZfsDriver();

  test('out of space: a stream larger than the target pool', async () => {
    const fs = await createDataset(big.pool.dataset('data'));
    await writeFile(fs, 'random', 48 * 1024 * 1024);
    const guid = await snapshot(`${fs}@s`);
    const before = await listAll(small.pool.name);
    const send = driver.send({ snapshot: `${fs}@s` });
    await assert.rejects(driver.receive({ target: small.pool.dataset('copy'), snapshotName: 's', expectedGuid: guid }, send.stream), (error: unknown) => {
      assert.ok(error instanceof OutOfSpaceError, String(error));
      assert.match(error.stderr, /out of space/);
      assert.equal(error.exitCode, 1);
      return true;
    });
    await Promise.allSettled([send.done]);
    assert.equal(await datasetExists(small.pool.dataset('copy')), false);
    assert.deepEqual(await listAll(small.pool.name), before);
  });

  test('permission denied: zfs run as an unprivileged user', async () => {
    const wrapper = createZfsWrapper('unprivileged');
    try {
      const unprivileged = new ZfsDriver({ zfsBin: wrapper.bin });
      await assert.rejects(unprivileged.listFilesystems(big.pool.name), (error: unknown) => {
        assert.ok(error instanceof PermissionDeniedError, String(error));
        assert.match(error.stderr, /permission denied/i);
        return true;
      });
      await assert.rejects(unprivileged.snapshot([`${big.pool.name}@nope`]), PermissionDeniedError);
      assert.equal(await datasetExists(`${big.pool.name}@nope`), false);
    } finally {
      wrapper.cleanup();
    }
  });

  test('daemon not running: the zfs client finds no daemon socket', async () => {
    const wrapper = createZfsWrapper('no-daemon');
    try {
      const detached = new ZfsDriver({ zfsBin: wrapper.bin });
      await assert.rejects(detached.exists(big.pool.name), (error: unknown) => {
        assert.ok(error instanceof DaemonNotRunningError, String(error));
        assert.match(error.stderr, /failed to initialize ZFS library/);
        return true;
      });
      // The capability probe must not mistake a dead daemon for "nothing supported".
      await assert.rejects(detached.capabilities(big.pool.name), DaemonNotRunningError);
      const send = detached.send({ snapshot: `${big.pool.name}@x` });
      send.stream.resume();
      await assert.rejects(send.done, DaemonNotRunningError);
    } finally {
      wrapper.cleanup();
    }
  });
});
