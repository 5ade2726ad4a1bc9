// When a run moves the replication cursors, through the real CLI on zfs-fuse pools: a run
// with nothing new leaves them alone (no hold, set or release), one that finds a cursor
// missing puts it back, and one that replicates moves it.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runZferry } from '../../helpers/cli.js';
import { expectExit } from '../../helpers/replication-modes.js';
import { createZfsWrapper, type ZfsWrapper } from '../../helpers/zfs-wrappers.js';
import { createDataset, getProperty, run, snapshot, usePool, writeFile, zferryCursors, zfs } from '../../helpers/zfs-pool.js';

/**
 * Runs `zferry push -r` with a recording zfs first on PATH: the argv of each zfs it ran. Its
 * capability cache is the wrapper's own (other tests running meanwhile rewrite the shared one).
 */
async function pushRecorded(wrapper: ZfsWrapper, source: string, target: string): Promise<string[][]> {
  wrapper.clear();
  const env = { PATH: `${wrapper.dir}:${process.env['PATH'] ?? ''}`, XDG_CACHE_HOME: path.join(wrapper.dir, 'cache') };
  expectExit(await runZferry(['push', '-r', source, target], { env }), 0, 'push');
  return wrapper.invocations();
}


describe('replication cursors across runs', () => {
  const src = usePool({ sizeMiB: 128 });
  const dst = usePool({ sizeMiB: 128 });

  test('nothing new: cursors untouched; a missing cursor comes back; new snapshots move it', async (t) => {
    const source = src.pool.dataset('tree');
    const target = dst.pool.dataset('tree');
    await createDataset(source);
    await createDataset(`${source}/child`);
    for (const name of ['s1', 's2']) {
      await writeFile(`${source}/child`, `${name}.bin`, 32 * 1024);
      await snapshot(`${source}@${name}`, { recursive: true });
    }
    // The wrapper runs the real zfs by its full path: by name it would find itself on PATH.
    // One wrapper for every run, so zferry probes it once (first run) and then uses its cache.
    const wrapper = createZfsWrapper('recording', (await run('sh', ['-c', 'command -v zfs'])).stdout.trim());
    t.after(() => wrapper.cleanup());
    await pushRecorded(wrapper, source, target);
    const [property] = [...(await zferryCursors(target)).keys()];
    assert.ok(property !== undefined, 'the first run records a cursor on the target');
    assert.equal((await zferryCursors(source)).get(property)?.value, 's2');
    assert.equal((await zferryCursors(`${target}/child`)).get(property)?.value, 's2');

    // Nothing new: the listings (one recursive `zfs get` per side) already show every cursor
    // on its base, so the run neither reads nor writes cursors after them.
    const idle = await pushRecorded(wrapper, source, target);
    const idleCalls = idle.map((argv) => `${argv[0]} ${argv.includes('-r') ? '-r ' : ''}${argv.at(-1)}`).sort();
    assert.deepEqual(idleCalls, [`get -r ${source}`, `get -r ${target}`].sort());
    assert.equal((await zferryCursors(target)).get(property)?.value, 's2');

    // A cursor lost on one side (the property cleared) is recorded again, even with nothing to send.
    await zfs('inherit', property, target);
    assert.equal((await zferryCursors(target)).get(property), undefined);
    const repair = (await pushRecorded(wrapper, source, target)).map((argv) => argv[0]);
    assert.ok(repair.includes('set'), `the cursor is set again (zfs ran: ${repair.join(' ')})`);
    assert.equal((await zferryCursors(target)).get(property)?.value, 's2');
    assert.equal((await zferryCursors(`${target}/child`)).get(property)?.value, 's2');

    // Something new: the cursors move on both sides.
    await writeFile(`${source}/child`, 's3.bin', 32 * 1024);
    await snapshot(`${source}@s3`, { recursive: true });
    const moved = (await pushRecorded(wrapper, source, target)).map((argv) => argv[0]);
    assert.ok(moved.includes('hold') && moved.includes('release'), `holds move (zfs ran: ${moved.join(' ')})`);
    for (const fs of [source, `${source}/child`, target, `${target}/child`]) {
      assert.equal((await zferryCursors(fs)).get(property)?.value, 's3', `cursor of ${fs}`);
    }

    // An unfinished move on the source: the value names s2 as well as the base, and s2 is held
    // again. With nothing new to send, the next run still finishes the move and frees s2.
    const tag = property.slice('zferry:cursor.'.length);
    await zfs('hold', '-r', tag, `${source}@s2`);
    await zfs('set', `${property}=s3,s2`, source);
    const finish = (await pushRecorded(wrapper, source, target)).map((argv) => argv[0]);
    assert.ok(finish.includes('release'), `the unfinished move is finished (zfs ran: ${finish.join(' ')})`);
    for (const fs of [source, `${source}/child`]) {
      assert.equal((await zferryCursors(fs)).get(property)?.value, 's3', `cursor of ${fs}`);
      assert.equal(await getProperty(`${fs}@s2`, 'userrefs'), '0', `${fs}@s2 released`);
      assert.equal(await getProperty(`${fs}@s3`, 'userrefs'), '1', `${fs}@s3 held`);
    }
  });
});
