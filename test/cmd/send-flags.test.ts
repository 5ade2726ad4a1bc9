// `--raw`, `--compressed`, `--large-blocks`, `--embedded`: each reaches `zfs send` of every step
// (full and incremental), and a zfs without them refuses clearly and changes nothing.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runZferry } from '../helpers/cli.js';
import { expectExit } from '../helpers/replication-modes.js';
import { createZfsWrapper } from '../helpers/zfs-wrappers.js';
import { createDataset, datasetExists, listSnapshots, run, snapshot, usePool, writeFile } from '../helpers/zfs-pool.js';

describe('zfs send stream options', () => {
  const src = usePool({ sizeMiB: 128 });
  const dst = usePool({ sizeMiB: 128 });

  test('a zfs without -c: the filesystem fails with the reason, the target is not created', async () => {
    const source = src.pool.dataset('plain');
    const target = dst.pool.dataset('plain');
    await createDataset(source);
    await writeFile(source, 'a.bin', 64 * 1024);
    await snapshot(`${source}@s1`);
    const result = await runZferry(['push', '--compressed', source, target]);
    expectExit(result, 1, 'push --compressed on zfs-fuse');
    assert.match(result.stderr, new RegExp(`${source}`));
    assert.match(result.stderr, /compressed send \(-c\) is not supported here: zfs does not support it/);
    assert.equal(await datasetExists(target), false);
  });

  test('every flag asked for is on every zfs send; the replication completes', async (t) => {
    const source = src.pool.dataset('flags');
    const target = dst.pool.dataset('flags');
    await createDataset(source);
    for (const name of ['s1', 's2']) {
      await writeFile(source, `${name}.bin`, 64 * 1024);
      await snapshot(`${source}@${name}`);
    }
    const wrapper = createZfsWrapper('send-flags', (await run('sh', ['-c', 'command -v zfs'])).stdout.trim());
    t.after(() => wrapper.cleanup());
    const env = { PATH: `${wrapper.dir}:${process.env['PATH'] ?? ''}`, XDG_CACHE_HOME: path.join(wrapper.dir, 'cache') };
    const flags = ['--raw', '--compressed', '--large-blocks', '--embedded'];
    expectExit(await runZferry(['push', ...flags, source, target], { env }), 0, 'push with every flag');
    await writeFile(source, 's3.bin', 64 * 1024);
    await snapshot(`${source}@s3`);
    expectExit(await runZferry(['push', '--compressed', source, target], { env }), 0, 'incremental with -c');

    // Stream sends only: the probes run `zfs send -X` with no operand.
    const sends = wrapper.invocations().filter((argv) => argv[0] === 'send' && argv.at(-1)?.startsWith(source));
    assert.deepEqual(
      sends.map((argv) => argv.join(' ')),
      [`send -w -c -L -e ${source}@s1`, `send -w -c -L -e -i ${source}@s1 ${source}@s2`, `send -c -i ${source}@s2 ${source}@s3`],
    );
    assert.deepEqual(
      (await listSnapshots(target)).map((s) => s.name),
      ['s1', 's2', 's3'],
    );
  });
});
