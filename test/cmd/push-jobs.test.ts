// `zferry push -r --jobs N` with many filesystems running at once: every filesystem arrives and
// nothing but the summary reaches stderr (no "possible memory leak" warning from node).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runZferry } from '../helpers/cli.js';
import { expectExit } from '../helpers/replication-modes.js';
import { createDataset, listSnapshots, snapshot, usePool } from '../helpers/zfs-pool.js';

describe('push -r with many concurrent filesystems', () => {
  const src = usePool({ sizeMiB: 128 });
  const dst = usePool({ sizeMiB: 128 });

  test('--jobs 16 over 24 filesystems: all replicated, no warning', async () => {
    const source = src.pool.dataset('wide');
    const target = dst.pool.dataset('wide');
    await createDataset(source);
    const children = Array.from({ length: 23 }, (_, i) => `${source}/c${i}`);
    for (const child of children) await createDataset(child);
    await snapshot(`${source}@w1`, { recursive: true });
    const result = expectExit(await runZferry(['push', '-r', '--jobs', '16', '--quiet', source, target]), 0, 'push');
    assert.doesNotMatch(result.stderr, /Warning|MaxListeners/, result.stderr);
    for (const child of children) {
      const names = (await listSnapshots(child.replace(source, target))).map((s) => s.name);
      assert.deepEqual(names, ['w1'], child);
    }
  });
});
