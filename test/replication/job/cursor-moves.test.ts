// When a run moves the replication cursors, through the real CLI on zfs-fuse pools: a run
// with nothing new leaves them alone (no hold, set or release), one that finds a cursor
// missing puts it back, and one that replicates moves it. Non-recursive and recursive runs of
// one tree, and trees recorded by earlier versions, leave every filesystem's base held.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { JobSummary } from '../../../replication/job/types.js';
import { runZferry } from '../../helpers/cli.js';
import { expectExit } from '../../helpers/replication-modes.js';
import { createZfsWrapper, type ZfsWrapper } from '../../helpers/zfs-wrappers.js';
import { createDataset, heldExactly, getProperty, run, snapshot, usePool, userrefsBelow, writeFile, zferryCursors, zfs } from '../../helpers/zfs-pool.js';

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

/** `zferry push ARGS --json`, which must succeed. */
async function push(args: string[], what: string): Promise<JobSummary> {
  return JSON.parse(expectExit(await runZferry(['push', ...args, '--json']), 0, what).stdout) as JobSummary;
}

/** Every filesystem replicated by incremental steps only. */
function assertIncremental(summary: JobSummary, count: number): void {
  assert.equal(summary.filesystems.length, count);
  for (const fs of summary.filesystems) {
    assert.equal(fs.outcome, 'replicated', `${fs.source}: ${JSON.stringify(fs.error)}`);
    assert.ok(fs.steps.length > 0 && fs.steps.every((step) => step.kind === 'incremental'), `${fs.source} incremental: ${JSON.stringify(fs.steps)}`);
  }
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

  /** A root with two children and a grandchild, each snapshot in `names` taken recursively. */
  async function sourceTree(name: string, names: string[]): Promise<{ source: string; target: string; filesystems: string[] }> {
    const source = src.pool.dataset(name);
    const filesystems = [source, `${source}/a`, `${source}/b`, `${source}/b/d`];
    for (const fs of filesystems) await createDataset(fs);
    for (const snap of names) await snapshot(`${source}@${snap}`, { recursive: true });
    return { source, target: dst.pool.dataset(name), filesystems };
  }

  test('push, then push -r: every child is held on both sides and the next run stays incremental', async () => {
    const { source, target } = await sourceTree('mixed', ['h1']);
    await push([source, target], 'the root alone');
    await push(['-r', source, target], 'the tree');
    // The children inherit the root's value, which is no cursor of theirs: each gets its own hold.
    for (const root of [source, target]) assert.deepEqual(await userrefsBelow(root), await heldExactly(root, 'h1'), `holds below ${root}`);
    assert.equal(await getProperty(`${source}/b@h1`, 'userrefs'), '1');
    assert.equal(await getProperty(`${target}/b@h1`, 'userrefs'), '1');
    const destroyed = await run('zfs', ['destroy', `${source}/b@h1`]);
    assert.notEqual(destroyed.exitCode, 0, 'a held base cannot be destroyed');
    assert.match(destroyed.stderr, /busy/);

    await snapshot(`${source}@h2`, { recursive: true });
    assertIncremental(await push(['-r', source, target], 'the next tree run'), 4);
    for (const root of [source, target]) assert.deepEqual(await userrefsBelow(root), await heldExactly(root, 'h2'), `holds below ${root}`);
  });

  test("with nothing new to send, children that only inherit the root's value are held all the same", async () => {
    const { source, target, filesystems } = await sourceTree('inherits', ['h1']);
    await push(['-r', source, target], 'the tree');
    const [property] = [...(await zferryCursors(source)).keys()];
    assert.ok(property !== undefined);
    const tag = property.slice('zferry:cursor.'.length);
    // The children lose their own records and holds: what they inherit from the root is no cursor.
    for (const fs of filesystems.slice(1)) {
      for (const side of [fs, `${target}${fs.slice(source.length)}`]) {
        await zfs('release', tag, `${side}@h1`);
        await zfs('inherit', property, side);
      }
    }
    await push(['-r', source, target], 'nothing new');
    for (const root of [source, target]) assert.deepEqual(await userrefsBelow(root), await heldExactly(root, 'h1'), `holds below ${root}`);
  });

  test('push -r, then push: the children keep their holds, and the next push -r stays incremental', async () => {
    const { source, target } = await sourceTree('reverse', ['h1', 'h2']);
    await zfs('destroy', '-r', `${source}@h2`);
    await push(['-r', source, target], 'the tree');
    await snapshot(`${source}@h2`, { recursive: true });
    // The root alone moves on to h2: its children's base stays h1, held on both sides.
    await push([source, target], 'the root alone');
    for (const root of [source, target]) {
      assert.equal(await getProperty(`${root}@h1`, 'userrefs'), '0', `${root}@h1`);
      assert.equal(await getProperty(`${root}@h2`, 'userrefs'), '1', `${root}@h2`);
      for (const child of ['a', 'b', 'b/d']) {
        assert.equal(await getProperty(`${root}/${child}@h1`, 'userrefs'), '1', `${root}/${child}@h1`);
        if (root === source) assert.equal(await getProperty(`${root}/${child}@h2`, 'userrefs'), '0', `${root}/${child}@h2`);
      }
    }

    await snapshot(`${source}@h3`, { recursive: true });
    assertIncremental(await push(['-r', source, target], 'the next tree run'), 4);
    for (const root of [source, target]) assert.deepEqual(await userrefsBelow(root), await heldExactly(root, 'h3'), `holds below ${root}`);
  });

  test('a tree whose cursor an earlier version recorded on its root moves on: incremental, no leaked hold', async () => {
    const { source, target, filesystems } = await sourceTree('upgrade', ['h1']);
    await push(['-r', source, target], 'the first run');
    const [property] = [...(await zferryCursors(source)).keys()];
    assert.ok(property !== undefined);
    const tag = property.slice('zferry:cursor.'.length);
    const targets = filesystems.map((fs) => `${target}${fs.slice(source.length)}`);

    /** What earlier versions left on each side: the value set on the root, `hold -r` on `base`. */
    async function recordTheEarlierWay(base: string): Promise<void> {
      for (const [root, tree] of [
        [source, filesystems],
        [target, targets],
      ] as const) {
        for (const fs of tree) {
          for (const name of ['h1', 'h2']) await run('zfs', ['release', tag, `${fs}@${name}`]);
          await zfs('inherit', property as string, fs);
        }
        await zfs('set', `${property}=${base}`, root);
        await zfs('hold', '-r', tag, `${root}@${base}`);
        assert.deepEqual(await userrefsBelow(root), await heldExactly(root, base));
        assert.equal((await zferryCursors(`${root}/b/d`)).get(property as string)?.source, `inherited from ${root}`);
      }
    }

    // Nothing new: every snapshot already carries the tag, and nothing may fail on that.
    await recordTheEarlierWay('h1');
    const idle = await push(['-r', source, target], 'nothing new');
    assert.deepEqual(idle.warnings, []);
    for (const root of [source, target]) assert.deepEqual(await userrefsBelow(root), await heldExactly(root, 'h1'), `holds below ${root}`);

    // Something new: incremental from the base the earlier version held, which is then released.
    await recordTheEarlierWay('h1');
    await snapshot(`${source}@h2`, { recursive: true });
    const moved = await push(['-r', source, target], 'the next run');
    assertIncremental(moved, 4);
    assert.deepEqual(moved.warnings, []);
    for (const root of [source, target]) assert.deepEqual(await userrefsBelow(root), await heldExactly(root, 'h2'), `holds below ${root}`);
    for (const fs of [...filesystems, ...targets]) assert.equal((await zferryCursors(fs)).get(property)?.value, 'h2', `cursor of ${fs}`);
  });
});
