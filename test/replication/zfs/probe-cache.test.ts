/**
 * The on-disk cache of what the zfs binary accepts: a second driver probes nothing, a changed
 * binary or a damaged cache file is probed again, and the capabilities come out the same.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ZfsDriver } from '../../../replication/zfs/index.js';
import { createZfsWrapper } from '../../helpers/zfs-wrappers.js';
import { usePool } from '../../helpers/zfs-pool.js';

describe('zfs binary probe cache (real zfs)', () => {
  const ctx = usePool({ sizeMiB: 64 });
  const wrapper = createZfsWrapper('recording');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zferry-probe-cache-'));
  const cacheFile = path.join(dir, 'sub', 'zfs-binary.json');
  after(() => {
    wrapper.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Probes are the invocations that name no dataset of the pool. */
  const probesSince = (before: number): number =>
    wrapper
      .invocations()
      .slice(before)
      .filter((argv) => !argv.some((arg) => arg.startsWith(ctx.pool.name))).length;

  const driver = () => new ZfsDriver({ zfsBin: wrapper.bin, probeCacheFile: cacheFile });

  test('probed once, then read from the file by the next driver', async () => {
    let before = wrapper.invocations().length;
    const first = await driver().capabilities(ctx.pool.name);
    assert.ok(probesSince(before) >= 10, 'the first driver probes the binary');

    before = wrapper.invocations().length;
    const second = await driver().capabilities(ctx.pool.name);
    assert.equal(probesSince(before), 0, 'the second driver reads the cache');
    assert.deepEqual(second, first);
  });

  test('a changed binary or a damaged file is probed again', async () => {
    await driver().capabilities(ctx.pool.name);
    // Same behaviour, different size and mtime: another binary as far as the cache knows.
    appendFileSync(wrapper.bin, '\n# changed\n');
    let before = wrapper.invocations().length;
    await driver().capabilities(ctx.pool.name);
    assert.ok(probesSince(before) >= 10);

    writeFileSync(cacheFile, '{ not json');
    before = wrapper.invocations().length;
    const caps = await driver().capabilities(ctx.pool.name);
    assert.ok(probesSince(before) >= 10);
    assert.equal(typeof caps.receiveUnmounted, 'boolean');
    before = wrapper.invocations().length;
    await driver().capabilities(ctx.pool.name);
    assert.equal(probesSince(before), 0, 'rewritten after the damaged one');
  });
});
