/** The confinement's rules on their own (no zfs): what a served client may name, and how a refusal reads. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { Confinement } from '../../../replication/endpoint/confinement.js';

const logger = pino({ level: 'silent' });

function refused(message: RegExp) {
  return (error: unknown): boolean => {
    assert.equal((error as { code?: string }).code, 'ENDPOINT_OUTSIDE_ROOT', String(error));
    assert.match((error as Error).message, message);
    return true;
  };
}

describe('confinement', () => {
  const laptop = new Confinement({ roots: ['backup/sink/laptop'], identity: 'laptop', logger });

  test('a name outside the root is refused naming the client and its root', () => {
    assert.throws(
      () => laptop.filesystem('receive', 'tank/other'),
      refused(/^client 'laptop' may not touch tank\/other \(its root is backup\/sink\/laptop\)$/),
    );
    assert.throws(() => laptop.snapshot('rollback', 'backup/sink/laptopx/a@s1'), refused(/may not touch backup\/sink\/laptopx\/a /));
    assert.equal(laptop.filesystem('receive', 'backup/sink/laptop/tank/a'), 'backup/sink/laptop/tank/a');
  });

  test('malformed names: leading "-", "..", empty components, "@"/"#" out of place', () => {
    for (const name of ['-o', 'backup/sink/laptop/../other', 'backup/sink/laptop//a', 'backup/sink/laptop/a@s', 'backup/sink/laptop/a#b', '']) {
      assert.throws(() => laptop.filesystem('listVersions', name), refused(/^client 'laptop' may not name /), name);
    }
    for (const name of ['backup/sink/laptop/a', 'backup/sink/laptop/a@-s', 'backup/sink/laptop/a@s@t', 'backup/sink/laptop/a@s/x']) {
      assert.throws(() => laptop.snapshot('rollback', name), refused(/^client 'laptop' may not name /), name);
    }
    for (const short of ['-F', '..', 's/x', 's@t', '']) assert.throws(() => laptop.shortName('receive', short), refused(/may not name the snapshot/), short);
  });

  test("cursor tags: only zferry's own, as user properties", () => {
    assert.equal(laptop.cursorProperty('moveCursors', 'zferry_job_abc'), 'zferry:cursor.zferry_job_abc');
    for (const tag of ['-o', 'mountpoint', 'zferry:cursor.x', 'zferry_a,mountpoint', 'zferry_a=b']) {
      assert.throws(() => laptop.cursorProperty('moveCursors', tag), refused(/^client 'laptop' may not use the cursor tag/), tag);
    }
  });

  test('a rename aside stays within its own root', () => {
    const two = new Confinement({ roots: ['sink/one', 'sink/two'], identity: 'both', logger });
    two.renameAside('rename', 'sink/one/a', 'sink/one/a-aside');
    assert.throws(
      () => two.renameAside('rename', 'sink/one/a', 'sink/two/a'),
      refused(/may not rename sink\/one\/a to sink\/two\/a \(a rename aside stays within its root sink\/one\)/),
    );
    assert.throws(() => two.renameAside('rename', 'sink/one/a', 'sink/a'), refused(/may not touch sink\/a/));
  });

  test('a source serves exactly what its filter selects; the listing root need only lie within the roots', () => {
    const source = new Confinement({ roots: ['tank'], identity: 'puller', selects: (fs) => fs === 'tank/a', logger });
    assert.equal(source.filesystem('send', 'tank/a'), 'tank/a');
    assert.throws(
      () => source.snapshot('send', 'tank/b@s1'),
      refused(/^client 'puller' may not touch tank\/b \(not among the filesystems this source serves\)$/),
    );
    assert.equal(source.within('listVersionTree', 'tank'), 'tank');
    assert.deepEqual(
      ['tank', 'tank/a', 'tank/a/b', 'other/a'].filter((fs) => source.serves(fs)),
      ['tank/a'],
    );
  });

  test('without an identity the refusal reads as before; without roots or a filter nothing is confined', () => {
    const anonymous = new Confinement({ roots: ['t/a'], logger });
    assert.throws(() => anonymous.filesystem('receive', 't/x'), refused(/^t\/x is outside the datasets this endpoint serves \(t\/a\)$/));
    const open = new Confinement({ roots: [], logger });
    assert.equal(open.confined, false);
    assert.equal(open.filesystem('receive', 'anything/at/all'), 'anything/at/all');
  });

  test('each refusal is logged at warn with identity, call and name', () => {
    const lines: Array<Record<string, unknown>> = [];
    const logging = new Confinement({
      roots: ['sink/A'],
      identity: 'A',
      logger: pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }),
    });
    assert.throws(() => logging.filesystem('destroySnapshots', 'sink/B'));
    assert.throws(() => logging.shortName('receive', '-F'));
    assert.deepEqual(
      lines.map(({ level, identity, call, name }) => ({ level, identity, call, name })),
      [
        { level: 40, identity: 'A', call: 'destroySnapshots', name: 'sink/B' },
        { level: 40, identity: 'A', call: 'receive', name: '-F' },
      ],
    );
  });
});
