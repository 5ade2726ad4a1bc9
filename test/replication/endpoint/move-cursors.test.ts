/**
 * Replication cursors on real ZFS: whole-tree moves go recursive (the property inherited from
 * the root), partial moves pin what stays, and in every state each filesystem's effective
 * cursor names the one snapshot that carries its hold.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cursorProperty, cursorTag, heldCandidates, parseCursorValue } from '../../../replication/endpoint/cursor.js';
import { moveCursors } from '../../../replication/endpoint/move-cursors.js';
import { ZfsDriver } from '../../../replication/zfs/index.js';
import { createDataset, getProperty, snapshot, usePool, zfs } from '../../helpers/zfs-pool.js';

describe('moveCursors (real zfs)', () => {
  const ctx = usePool({ sizeMiB: 128 });
  const driver = new ZfsDriver();
  let counter = 0;

  /** A root with two children, each snapshot in `names` taken recursively. */
  interface Tree {
    root: string;
    filesystems: string[];
    tag: string;
    property: string;
  }

  async function tree(names: string[]): Promise<Tree> {
    const root = await createDataset(`${ctx.pool.name}/t${++counter}`);
    await createDataset(`${root}/c1`);
    await createDataset(`${root}/c2`);
    for (const name of names) await snapshot(`${root}@${name}`, { recursive: true });
    const tag = cursorTag(`test${counter}`, `dest-${counter}`);
    return { root, filesystems: [root, `${root}/c1`, `${root}/c2`], tag, property: cursorProperty(tag) };
  }

  const held = async (snapshotName: string): Promise<boolean> => (await getProperty(snapshotName, 'userrefs')) !== '0';

  /** Every filesystem's effective cursor names its only held snapshot. */
  async function assertCursors(t: Tree, expected: Record<string, string>, all: string[]): Promise<void> {
    for (const fs of t.filesystems) {
      const want = expected[fs];
      assert.equal(await getProperty(fs, t.property), want ?? '-', `${fs} cursor`);
      for (const name of all) assert.equal(await held(`${fs}@${name}`), name === want, `${fs}@${name} held`);
    }
  }

  const source = async (fs: string, property: string): Promise<string> =>
    (await zfs('get', '-H', '-o', 'source', property, fs)).trim();

  test('a whole tree moves with recursive holds and one property on the root', async () => {
    const t = await tree(['s1', 's2']);
    const move = (name: string) => t.filesystems.map((filesystem) => ({ filesystem, snapshot: name }));
    assert.deepEqual(await moveCursors(driver, t.tag, move('s1'), t.root), { released: 0 });
    await assertCursors(t, Object.fromEntries(t.filesystems.map((fs) => [fs, 's1'])), ['s1', 's2']);
    assert.equal(await source(t.root, t.property), 'local');
    assert.equal(await source(`${t.root}/c1`, t.property), `inherited from ${t.root}`);

    assert.deepEqual(await moveCursors(driver, t.tag, move('s2'), t.root), { released: 3 });
    await assertCursors(t, Object.fromEntries(t.filesystems.map((fs) => [fs, 's2'])), ['s1', 's2']);
    // Nothing to do the second time.
    assert.deepEqual(await moveCursors(driver, t.tag, move('s2'), t.root), { released: 0 });
  });

  test('a child that stays behind keeps its own cursor; the next whole-tree move tidies up', async () => {
    const t = await tree(['s1', 's2', 's3']);
    const [root, c1, c2] = t.filesystems as [string, string, string];
    await moveCursors(driver, t.tag, t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's1' })), t.root);

    // c2 failed this run: root and c1 move on, c2 must keep s1 held and recorded.
    await moveCursors(driver, t.tag, [{ filesystem: root, snapshot: 's2' }, { filesystem: c1, snapshot: 's2' }], t.root);
    await assertCursors(t, { [root]: 's2', [c1]: 's2', [c2]: 's1' }, ['s1', 's2', 's3']);
    assert.equal(await source(c2, t.property), 'local');

    // All catch up to s3 from different bases: one by one.
    await moveCursors(driver, t.tag, t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's3' })), t.root);
    await assertCursors(t, { [root]: 's3', [c1]: 's3', [c2]: 's3' }, ['s1', 's2', 's3']);

    // From one common base again: recursive, and the local values below the root are dropped.
    await snapshot(`${root}@s4`, { recursive: true });
    await moveCursors(driver, t.tag, t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's4' })), t.root);
    await assertCursors(t, { [root]: 's4', [c1]: 's4', [c2]: 's4' }, ['s1', 's2', 's3', 's4']);
    assert.equal(await source(c2, t.property), `inherited from ${root}`);
  });

  test('an existing hold or a base released by hand falls back to one by one', async () => {
    const t = await tree(['s1', 's2']);
    const [root, c1] = t.filesystems as [string, string, string];
    const move = (name: string) => t.filesystems.map((filesystem) => ({ filesystem, snapshot: name }));
    await moveCursors(driver, t.tag, move('s1'), t.root);
    // Someone released c1's base, and an interrupted earlier move already held root@s2.
    await zfs('release', t.tag, `${c1}@s1`);
    await zfs('hold', t.tag, `${root}@s2`);
    await moveCursors(driver, t.tag, move('s2'), t.root);
    await assertCursors(t, Object.fromEntries(t.filesystems.map((fs) => [fs, 's2'])), ['s1', 's2']);
  });

  test('a filesystem that does not move rules out the recursive path', async () => {
    const t = await tree(['s1']);
    const [root, c1, c2] = t.filesystems as [string, string, string];
    // c2 is not part of this move (say its replication failed): it must not get a hold.
    await moveCursors(driver, t.tag, [{ filesystem: root, snapshot: 's1' }, { filesystem: c1, snapshot: 's1' }], root);
    for (const fs of [root, c1]) {
      assert.equal(await getProperty(fs, t.property), 's1');
      assert.equal(await held(`${fs}@s1`), true);
    }
    // It may inherit the root's value (a hold-less cursor is harmless: releasing it is a no-op).
    assert.equal(await held(`${c2}@s1`), false);
  });

  /** A driver that dies before its `dieAt`-th change to the pool (hold, release, set, inherit). */
  class DyingDriver extends ZfsDriver {
    changes = 0;
    constructor(readonly dieAt: number) {
      super();
    }
    #change(): void {
      this.changes += 1;
      if (this.changes === this.dieAt) throw new Error(`killed before change ${this.dieAt}`);
    }
    override async hold(...args: Parameters<ZfsDriver['hold']>): Promise<void> {
      this.#change();
      return super.hold(...args);
    }
    override async release(...args: Parameters<ZfsDriver['release']>): Promise<void> {
      this.#change();
      return super.release(...args);
    }
    override async setUserPropertyOn(...args: Parameters<ZfsDriver['setUserPropertyOn']>): Promise<void> {
      this.#change();
      return super.setUserPropertyOn(...args);
    }
    override async inheritPropertyOn(...args: Parameters<ZfsDriver['inheritPropertyOn']>): Promise<void> {
      this.#change();
      return super.inheritPropertyOn(...args);
    }
  }

  /** Each held snapshot is named by its filesystem's effective value: nothing is held unrecorded. */
  async function assertNoUnrecordedHold(t: Tree, all: string[], context: string): Promise<void> {
    for (const fs of t.filesystems) {
      const named = heldCandidates(parseCursorValue(await getProperty(fs, t.property)));
      for (const name of all) {
        if (await held(`${fs}@${name}`)) assert.ok(named.includes(name), `${context}: ${fs}@${name} is held but the value names ${named.join(',') || 'nothing'}`);
      }
    }
  }

  for (const shape of ['whole tree', 'one by one'] as const) {
    test(`a move that dies at any step leaks no hold, and the next move cleans up (${shape})`, async () => {
      for (let dieAt = 1; ; dieAt += 1) {
        const t = await tree(['s1', 's2', 's3']);
        const [root, c1, c2] = t.filesystems as [string, string, string];
        // 'one by one': c2 is a step behind, so the tree does not move as a whole.
        const first = (name: string) => t.filesystems.map((filesystem) => ({ filesystem, snapshot: filesystem === c2 && shape === 'one by one' ? 's1' : name }));
        await moveCursors(driver, t.tag, t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's1' })), root);
        const dying = new DyingDriver(dieAt);
        const died = await moveCursors(dying, t.tag, first('s2'), root).then(
          () => false,
          (error: Error) => {
            assert.match(error.message, /killed/);
            return true;
          },
        );
        await assertNoUnrecordedHold(t, ['s1', 's2', 's3'], `died before change ${dieAt}`);
        // The next run has moved on to s3 by then: only s3 stays held, and the value is settled.
        await moveCursors(driver, t.tag, t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's3' })), root);
        await assertCursors(t, { [root]: 's3', [c1]: 's3', [c2]: 's3' }, ['s1', 's2', 's3']);
        if (!died) {
          assert.ok(dieAt > 4, `a move makes at least four changes (${dying.changes})`);
          break;
        }
      }
    });
  }

  test('a move outside the named root is refused before zfs runs', async () => {
    const t = await tree(['s1']);
    await assert.rejects(
      moveCursors(driver, t.tag, [{ filesystem: `${ctx.pool.name}/elsewhere`, snapshot: 's1' }], t.root),
      (error: Error & { code?: string }) => error.code === 'ENDPOINT_CURSOR_OUTSIDE_TREE',
    );
  });
});
