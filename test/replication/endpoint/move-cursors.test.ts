/**
 * Replication cursors on real ZFS: whole-tree moves go recursive (the value set on the root,
 * every filesystem below storing `^`, "as my parent's"), partial moves pin what stays, and in
 * every state each filesystem's own record names the one snapshot that carries its hold. An
 * inherited value is never taken as a cursor.
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

  const userrefs = async (snapshotName: string): Promise<number> => Number(await getProperty(snapshotName, 'userrefs'));
  const held = async (snapshotName: string): Promise<boolean> => (await userrefs(snapshotName)) !== 0;
  const parentOf = (fs: string): string => fs.slice(0, fs.lastIndexOf('/'));

  /** The value and source of a property as zfs shows them. */
  async function stored(fs: string, property: string): Promise<{ value: string; source: string }> {
    const [value = '', source = ''] = (await zfs('get', '-H', '-o', 'value,source', property, fs)).replace(/\n$/, '').split('\t');
    return { value, source };
  }

  /** What a filesystem records itself: its local value, `^` followed to the parent's; `-` for none. */
  async function record(fs: string, property: string): Promise<string> {
    const { value, source } = await stored(fs, property);
    if (source !== 'local') return '-';
    return value === '^' ? record(parentOf(fs), property) : value;
  }

  /** Every snapshot a filesystem's value may name: its record's, else an inherited value's. */
  async function named(fs: string, property: string): Promise<string[]> {
    const { value, source } = await stored(fs, property);
    if (source === 'local') return heldCandidates(parseCursorValue(await record(fs, property)));
    if (!source.startsWith('inherited from ')) return [];
    return value === '^' ? named(parentOf(fs), property) : heldCandidates(parseCursorValue(value));
  }

  /** Every filesystem's record is settled on the expected snapshot, its only held one. */
  async function assertCursors(t: Tree, expected: Record<string, string>, all: string[]): Promise<void> {
    for (const fs of t.filesystems) {
      const want = expected[fs];
      assert.equal(await record(fs, t.property), want ?? '-', `${fs} cursor`);
      for (const name of all) assert.equal(await userrefs(`${fs}@${name}`), name === want ? 1 : 0, `${fs}@${name} userrefs`);
    }
  }

  /** A driver that records each change it makes to the pool (hold, release, set, inherit). */
  class CountingDriver extends ZfsDriver {
    readonly changes: string[] = [];
    override async hold(...args: Parameters<ZfsDriver['hold']>): Promise<void> {
      this.changes.push(args[2]?.recursive === true ? 'hold -r' : 'hold');
      return super.hold(...args);
    }
    override async release(...args: Parameters<ZfsDriver['release']>): Promise<void> {
      this.changes.push(args[2]?.recursive === true ? 'release -r' : 'release');
      return super.release(...args);
    }
    override async setUserPropertyOn(...args: Parameters<ZfsDriver['setUserPropertyOn']>): Promise<void> {
      this.changes.push('set');
      return super.setUserPropertyOn(...args);
    }
    override async inheritPropertyOn(...args: Parameters<ZfsDriver['inheritPropertyOn']>): Promise<void> {
      this.changes.push('inherit');
      return super.inheritPropertyOn(...args);
    }
  }

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

  test('a whole tree moves with recursive holds and one value on the root', async () => {
    const t = await tree(['s1', 's2']);
    const move = (name: string) => t.filesystems.map((filesystem) => ({ filesystem, snapshot: name }));
    assert.deepEqual(await moveCursors(driver, t.tag, move('s1'), t.root), { released: 0 });
    await assertCursors(t, Object.fromEntries(t.filesystems.map((fs) => [fs, 's1'])), ['s1', 's2']);
    assert.deepEqual(await stored(t.root, t.property), { value: 's1', source: 'local' });
    // Below the root, each filesystem's own value says "as my parent's", set once.
    assert.deepEqual(await stored(`${t.root}/c1`, t.property), { value: '^', source: 'local' });

    // From then on a move changes the root's value only: set, hold -r, release -r, set.
    const counting = new CountingDriver();
    assert.deepEqual(await moveCursors(counting, t.tag, move('s2'), t.root), { released: 3 });
    assert.deepEqual(counting.changes, ['set', 'hold -r', 'release -r', 'set']);
    await assertCursors(t, Object.fromEntries(t.filesystems.map((fs) => [fs, 's2'])), ['s1', 's2']);
    // Nothing to do the second time.
    assert.deepEqual(await moveCursors(driver, t.tag, move('s2'), t.root), { released: 0 });
  });

  test('a child that stays behind keeps its own cursor; the next whole-tree move tidies up', async () => {
    const t = await tree(['s1', 's2', 's3']);
    const [root, c1, c2] = t.filesystems as [string, string, string];
    await moveCursors(
      driver,
      t.tag,
      t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's1' })),
      t.root,
    );

    // c2 failed this run: root and c1 move on, c2 must keep s1 held and recorded.
    await moveCursors(
      driver,
      t.tag,
      [
        { filesystem: root, snapshot: 's2' },
        { filesystem: c1, snapshot: 's2' },
      ],
      t.root,
    );
    await assertCursors(t, { [root]: 's2', [c1]: 's2', [c2]: 's1' }, ['s1', 's2', 's3']);
    assert.deepEqual(await stored(c2, t.property), { value: 's1', source: 'local' });

    // All catch up to s3 from different bases: still one tree.
    await moveCursors(
      driver,
      t.tag,
      t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's3' })),
      t.root,
    );
    await assertCursors(t, { [root]: 's3', [c1]: 's3', [c2]: 's3' }, ['s1', 's2', 's3']);
    for (const fs of [c1, c2]) assert.deepEqual(await stored(fs, t.property), { value: '^', source: 'local' });
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
    await moveCursors(
      driver,
      t.tag,
      [
        { filesystem: root, snapshot: 's1' },
        { filesystem: c1, snapshot: 's1' },
      ],
      root,
    );
    for (const fs of [root, c1]) {
      assert.equal(await record(fs, t.property), 's1');
      assert.equal(await held(`${fs}@s1`), true);
    }
    // It inherits the root's value, which is no cursor of its own.
    assert.equal(await held(`${c2}@s1`), false);
    assert.equal(await record(c2, t.property), '-');
  });

  test('the root moved alone, then the whole tree: every child gets its hold', async () => {
    const t = await tree(['s1', 's2']);
    const [root, c1, c2] = t.filesystems as [string, string, string];
    // A non-recursive job on the root: the children inherit its value but hold nothing.
    await moveCursors(driver, t.tag, [{ filesystem: root, snapshot: 's1' }]);
    await assertCursors(t, { [root]: 's1' }, ['s1', 's2']);
    assert.equal((await stored(c1, t.property)).value, 's1');

    // The recursive job then: nothing new for the root, but the children are held now.
    await moveCursors(
      driver,
      t.tag,
      t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's1' })),
      root,
    );
    await assertCursors(t, { [root]: 's1', [c1]: 's1', [c2]: 's1' }, ['s1', 's2']);
    await assert.rejects(zfs('destroy', `${c1}@s1`), /busy/);
    await moveCursors(
      driver,
      t.tag,
      t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's2' })),
      root,
    );
    await assertCursors(t, { [root]: 's2', [c1]: 's2', [c2]: 's2' }, ['s1', 's2']);
  });

  test('the whole tree, then the root moved alone: the children keep their cursors', async () => {
    const t = await tree(['s1', 's2', 's3']);
    const [root, c1, c2] = t.filesystems as [string, string, string];
    await moveCursors(
      driver,
      t.tag,
      t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's1' })),
      root,
    );
    // A non-recursive job moves the root: what the children recorded as the root's stays theirs.
    await moveCursors(driver, t.tag, [{ filesystem: root, snapshot: 's2' }]);
    await assertCursors(t, { [root]: 's2', [c1]: 's1', [c2]: 's1' }, ['s1', 's2', 's3']);
    assert.deepEqual(await stored(c1, t.property), { value: 's1', source: 'local' });
    await moveCursors(
      driver,
      t.tag,
      t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's3' })),
      root,
    );
    await assertCursors(t, { [root]: 's3', [c1]: 's3', [c2]: 's3' }, ['s1', 's2', 's3']);
  });

  test('a filesystem created after a whole-tree move is not taken as held', async () => {
    const t = await tree(['s1', 's2']);
    const [root, c1] = t.filesystems as [string, string, string];
    await moveCursors(
      driver,
      t.tag,
      t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's1' })),
      root,
    );
    // New filesystems that happen to have a snapshot of the cursor's name: one inherits the
    // root's value, one the `^` of a child.
    const added = [`${root}/c3`, `${c1}/g`];
    for (const fs of added) {
      await createDataset(fs);
      await snapshot(`${fs}@s1`);
    }
    assert.equal((await stored(`${c1}/g`, t.property)).value, '^');
    const all = [...t.filesystems, ...added].sort();
    await moveCursors(
      driver,
      t.tag,
      all.map((filesystem) => ({ filesystem, snapshot: 's1' })),
      root,
    );
    for (const fs of all) {
      assert.equal(await record(fs, t.property), 's1', `${fs} cursor`);
      assert.equal(await userrefs(`${fs}@s1`), 1, `${fs}@s1 userrefs`);
    }
  });

  test('a tree recorded the earlier way (value on the root, inherited below) moves on without a leak', async () => {
    for (const next of ['s1', 's2', 'c2 stays behind']) {
      const t = await tree(['s1', 's2', 's3']);
      const [root, c1, c2] = t.filesystems as [string, string, string];
      // What earlier versions left: the value set on the root only, `hold -r` under the tag.
      await zfs('set', `${t.property}=s1`, root);
      await zfs('hold', '-r', t.tag, `${root}@s1`);
      if (next === 'c2 stays behind') {
        // The inherited value still names what c1 and c2 hold: c1 releases it, c2 keeps it.
        await moveCursors(
          driver,
          t.tag,
          [
            { filesystem: root, snapshot: 's2' },
            { filesystem: c1, snapshot: 's2' },
          ],
          root,
        );
        for (const [fs, heldName] of [
          [root, 's2'],
          [c1, 's2'],
          [c2, 's1'],
        ] as const) {
          for (const name of ['s1', 's2']) assert.equal(await userrefs(`${fs}@${name}`), name === heldName ? 1 : 0, `${fs}@${name} userrefs`);
        }
        assert.equal(await record(c1, t.property), 's2');
        // c2's own value now: still no cursor (nothing said it was held), but it names s1.
        assert.equal(await record(c2, t.property), ',s1');
        await moveCursors(
          driver,
          t.tag,
          t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's3' })),
          root,
        );
        await assertCursors(t, { [root]: 's3', [c1]: 's3', [c2]: 's3' }, ['s1', 's2', 's3']);
        continue;
      }
      // Nothing new (s1: every snapshot already carries the tag), or the next base (s2).
      await moveCursors(
        driver,
        t.tag,
        t.filesystems.map((filesystem) => ({ filesystem, snapshot: next })),
        root,
      );
      await assertCursors(t, Object.fromEntries(t.filesystems.map((fs) => [fs, next])), ['s1', 's2', 's3']);
    }
  });

  /**
   * Each held snapshot is named by its filesystem's value (its record, or what it inherits),
   * and a settled record's cursor is held: nothing is held unrecorded, nothing claimed unheld.
   */
  async function assertRecordsTrue(t: Tree, all: string[], context: string): Promise<void> {
    for (const fs of t.filesystems) {
      const names = await named(fs, t.property);
      for (const name of all) {
        if (await held(`${fs}@${name}`))
          assert.ok(names.includes(name), `${context}: ${fs}@${name} is held but the value names ${names.join(',') || 'nothing'}`);
      }
      const cursor = parseCursorValue(await record(fs, t.property));
      if (cursor?.snapshot !== undefined && cursor.pending.length === 0)
        assert.ok(await held(`${fs}@${cursor.snapshot}`), `${context}: ${fs} claims ${cursor.snapshot} unheld`);
    }
  }

  const shapes = {
    // The usual recursive run.
    'whole tree': { to: 's2', c2: 's2', before: 'tree' },
    // c2 is a step behind, so the tree does not move as a whole.
    'one by one': { to: 's2', c2: 's1', before: 'tree' },
    // A non-recursive job had moved the root alone: the children get their first holds and `^`.
    'children not yet held': { to: 's2', c2: 's2', before: 'root' },
    // The same with nothing new: the root's value is settled on the base the children still lack.
    'children not yet held, nothing new': { to: 's1', c2: 's1', before: 'root' },
  } as const;
  for (const [shape, { to, c2: c2To, before }] of Object.entries(shapes)) {
    test(`a move that dies at any step leaks no hold and claims none, and the next move cleans up (${shape})`, async () => {
      for (let dieAt = 1; ; dieAt += 1) {
        const t = await tree(['s1', 's2', 's3']);
        const [root, c1, c2] = t.filesystems as [string, string, string];
        if (before === 'tree')
          await moveCursors(
            driver,
            t.tag,
            t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's1' })),
            root,
          );
        else await moveCursors(driver, t.tag, [{ filesystem: root, snapshot: 's1' }]);
        const moves = t.filesystems.map((filesystem) => ({ filesystem, snapshot: filesystem === c2 ? c2To : to }));
        const dying = new DyingDriver(dieAt);
        const died = await moveCursors(dying, t.tag, moves, root).then(
          () => false,
          (error: Error) => {
            assert.match(error.message, /killed/);
            return true;
          },
        );
        await assertRecordsTrue(t, ['s1', 's2', 's3'], `died before change ${dieAt}`);
        // The next run has moved on to s3 by then: only s3 stays held, and the value is settled.
        await moveCursors(
          driver,
          t.tag,
          t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's3' })),
          root,
        );
        await assertCursors(t, { [root]: 's3', [c1]: 's3', [c2]: 's3' }, ['s1', 's2', 's3']);
        if (!died) {
          assert.ok(dieAt > 3, `a move makes at least three changes (${dying.changes})`);
          break;
        }
      }
    });
  }

  describe('taking over from a former tag (the destination named the way earlier versions did)', () => {
    /** The tag the same job had under an earlier name of its destination, and its property. */
    const formerOf = (t: Tree): { tag: string; property: string } => {
      const tag = cursorTag(`test${t.root.slice(t.root.lastIndexOf('/t') + 2)}`, 'former spelling');
      return { tag, property: cursorProperty(tag) };
    };
    const unset = async (fs: string, property: string): Promise<void> =>
      assert.deepEqual(await stored(fs, property), { value: '-', source: '-' }, `${fs} ${property}`);

    test('a whole tree: its bases held under the current tag only, one recursive release and one inherit', async () => {
      const t = await tree(['s1', 's2']);
      const former = formerOf(t);
      const move = (name: string) => t.filesystems.map((filesystem) => ({ filesystem, snapshot: name }));
      // What the earlier version did under its own tag.
      await moveCursors(driver, former.tag, move('s1'), t.root);
      const counting = new CountingDriver();
      assert.deepEqual(await moveCursors(counting, t.tag, move('s1'), t.root, [former.tag]), { released: 3 });
      assert.deepEqual(counting.changes, ['set', 'set', 'hold -r', 'set', 'release -r', 'inherit']);
      await assertCursors(t, Object.fromEntries(t.filesystems.map((fs) => [fs, 's1'])), ['s1', 's2']);
      for (const fs of t.filesystems) await unset(fs, former.property);
      // Done once: the next move has nothing to take over.
      const again = new CountingDriver();
      assert.deepEqual(await moveCursors(again, t.tag, move('s1'), t.root, [former.tag]), { released: 0 });
      assert.deepEqual(again.changes, []);
    });

    test('the root moved alone: the children keep the former hold, recorded as their own, until they move', async () => {
      const t = await tree(['s1', 's2']);
      const [root, c1, c2] = t.filesystems as [string, string, string];
      const former = formerOf(t);
      await moveCursors(
        driver,
        former.tag,
        t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's1' })),
        root,
      );
      await moveCursors(driver, t.tag, [{ filesystem: root, snapshot: 's2' }], undefined, [former.tag]);
      await unset(root, former.property);
      assert.equal(await userrefs(`${root}@s1`), 0);
      assert.equal(await userrefs(`${root}@s2`), 1);
      for (const fs of [c1, c2]) {
        assert.deepEqual(await stored(fs, former.property), { value: 's1', source: 'local' }, `${fs} keeps its former record`);
        assert.equal(await userrefs(`${fs}@s1`), 1, `${fs}@s1 still held`);
      }
      await moveCursors(
        driver,
        t.tag,
        t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's2' })),
        root,
        [former.tag],
      );
      await assertCursors(t, { [root]: 's2', [c1]: 's2', [c2]: 's2' }, ['s1', 's2']);
      for (const fs of t.filesystems) await unset(fs, former.property);
    });

    /**
     * Both tags' records stay true: a snapshot carries no more holds than the records naming it
     * (each tag holds a snapshot once), and the current tag's settled cursor is held. (A former
     * record is never read as a cursor, only as what to release: its holds go before it does.)
     */
    async function assertBothRecordsTrue(t: Tree, formerProperty: string, all: string[], context: string): Promise<void> {
      for (const fs of t.filesystems) {
        const names = await Promise.all([t.property, formerProperty].map((property) => named(fs, property)));
        const cursor = parseCursorValue(await record(fs, t.property));
        for (const name of all) {
          const refs = await userrefs(`${fs}@${name}`);
          assert.ok(refs <= names.filter((list) => list.includes(name)).length, `${context}: ${fs}@${name} carries ${refs} holds, more than its records name`);
          if (cursor?.snapshot === name && cursor.pending.length === 0) assert.ok(refs >= 1, `${context}: ${fs} claims ${name} unheld`);
        }
      }
    }

    const takeovers = {
      'whole tree': { moves: { root: 's2', c1: 's2', c2: 's2' }, recursive: true, earlierWay: false },
      'one by one': { moves: { root: 's2', c1: 's2', c2: 's1' }, recursive: true, earlierWay: false },
      'c2 stays behind': { moves: { root: 's2', c1: 's2' }, recursive: true, earlierWay: false },
      'the root alone': { moves: { root: 's2' }, recursive: false, earlierWay: false },
      // The former cursor recorded on the root only, inherited below, held by `hold -r`.
      'recorded the earlier way': { moves: { root: 's2', c1: 's2', c2: 's2' }, recursive: true, earlierWay: true },
    } as const;
    for (const [shape, { moves: targets, recursive, earlierWay }] of Object.entries(takeovers)) {
      test(`a takeover that dies at any step leaks no hold and claims none, and the next move finishes it (${shape})`, async () => {
        for (let dieAt = 1; ; dieAt += 1) {
          const t = await tree(['s1', 's2', 's3']);
          const [root, c1, c2] = t.filesystems as [string, string, string];
          const former = formerOf(t);
          if (earlierWay) {
            await zfs('set', `${former.property}=s1`, root);
            await zfs('hold', '-r', former.tag, `${root}@s1`);
          } else {
            await moveCursors(
              driver,
              former.tag,
              t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's1' })),
              root,
            );
          }
          const byRole: Record<string, string> = { root, c1, c2 };
          const moves = Object.entries(targets).map(([role, snapshot]) => ({ filesystem: byRole[role] ?? '', snapshot }));
          const dying = new DyingDriver(dieAt);
          const died = await moveCursors(dying, t.tag, moves, recursive ? root : undefined, [former.tag]).then(
            () => false,
            (error: Error) => {
              assert.match(error.message, /killed/);
              return true;
            },
          );
          await assertBothRecordsTrue(t, former.property, ['s1', 's2', 's3'], `died before change ${dieAt}`);
          await moveCursors(
            driver,
            t.tag,
            t.filesystems.map((filesystem) => ({ filesystem, snapshot: 's3' })),
            root,
            [former.tag],
          );
          await assertCursors(t, { [root]: 's3', [c1]: 's3', [c2]: 's3' }, ['s1', 's2', 's3']);
          for (const fs of t.filesystems) await unset(fs, former.property);
          if (!died) break;
        }
      });
    }
  });

  test('a move outside the named root is refused before zfs runs', async () => {
    const t = await tree(['s1']);
    await assert.rejects(
      moveCursors(driver, t.tag, [{ filesystem: `${ctx.pool.name}/elsewhere`, snapshot: 's1' }], t.root),
      (error: Error & { code?: string }) => error.code === 'ENDPOINT_CURSOR_OUTSIDE_TREE',
    );
  });
});
