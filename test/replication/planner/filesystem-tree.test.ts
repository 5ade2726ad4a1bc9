import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findTargetsMissingOnSender, mapFilesystemTree } from '../../../replication/planner/filesystem-tree.js';
import { filesystemNameProblem, isAtOrBelow } from '../../../replication/zfs/names.js';
import { FilesystemListingError, PlanArgumentError } from '../../../replication/planner/errors.js';

function listingError(code: string, filesystem: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof FilesystemListingError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.filesystem, filesystem);
    return true;
  };
}

describe('mapFilesystemTree', () => {
  test('maps to the same relative path, parents before children', () => {
    const mapping = mapFilesystemTree(['tank/a/y', 'tank/a/x/deep', 'tank/a', 'tank/a/x', 'tank/a/x-2'], 'tank/a', 'backup/pc1/a');
    assert.deepEqual(mapping, [
      { source: 'tank/a', target: 'backup/pc1/a' },
      { source: 'tank/a/x', target: 'backup/pc1/a/x' },
      { source: 'tank/a/x/deep', target: 'backup/pc1/a/x/deep' },
      { source: 'tank/a/x-2', target: 'backup/pc1/a/x-2' },
      { source: 'tank/a/y', target: 'backup/pc1/a/y' },
    ]);
  });

  test('every parent precedes its children for shuffled deep trees', () => {
    const names = ['p/r', 'p/r/a', 'p/r/a/b', 'p/r/a/b/c', 'p/r/a.b', 'p/r/a-b/c', 'p/r/a-b', 'p/r/ab', 'p/r/ab/a'];
    const mapping = mapFilesystemTree([...names].reverse(), 'p/r', 'q');
    const order = mapping.map((m) => m.source);
    for (const name of names) {
      const parent = name.slice(0, name.lastIndexOf('/'));
      if (names.includes(parent)) assert.ok(order.indexOf(parent) < order.indexOf(name), `${parent} before ${name}`);
    }
    assert.equal(mapping[0]!.target, 'q');
  });

  test('a pool root maps too', () => {
    assert.deepEqual(mapFilesystemTree(['tank', 'tank/a'], 'tank', 'backup/tank'), [
      { source: 'tank', target: 'backup/tank' },
      { source: 'tank/a', target: 'backup/tank/a' },
    ]);
  });

  test('rejects a sibling that only shares a prefix (tank/ab is not below tank/a)', () => {
    assert.throws(() => mapFilesystemTree(['tank/a', 'tank/ab'], 'tank/a', 'b'), listingError('OUTSIDE_ROOT', 'tank/ab'));
    assert.throws(() => mapFilesystemTree(['tank/a', 'tank'], 'tank/a', 'b'), listingError('OUTSIDE_ROOT', 'tank'));
    assert.throws(() => mapFilesystemTree(['other/a'], 'tank/a', 'b'), /not tank\/a nor below it; refusing the whole listing/);
  });

  test('rejects hostile or malformed names from a peer', () => {
    const hostile: [string, RegExp][] = [
      ['tank/a/../../etc', /"\.\." component/],
      ['tank/a/./x', /"\." component/],
      ['tank/a//x', /empty component/],
      ['tank/a/', /empty component/],
      ['-tank/a', /does not start with a letter/],
      ['tank/a/x@snap', /characters other than/],
      ['tank/a/x#bm', /characters other than/],
      ['tank/a/x\n-R', /characters other than/],
      ['tank/a/x;rm', /characters other than/],
      ['tank/a/\u00e9', /characters other than/],
      ['', /empty/],
      [`tank/a/${'x'.repeat(300)}`, /longer than 255/],
    ];
    for (const [name, reason] of hostile) {
      assert.throws(
        () => mapFilesystemTree(['tank/a', name], 'tank/a', 'backup/a'),
        (err: unknown) => {
          listingError('INVALID_NAME', name)(err);
          assert.match((err as Error).message, reason);
          return true;
        },
        JSON.stringify(name),
      );
    }
  });

  test('rejects duplicates', () => {
    assert.throws(() => mapFilesystemTree(['tank/a', 'tank/a/x', 'tank/a/x'], 'tank/a', 'b'), listingError('DUPLICATE', 'tank/a/x'));
  });

  test('rejects a mapping whose target name would be too long for zfs', () => {
    const child = `tank/a/${'c'.repeat(240)}`;
    assert.throws(() => mapFilesystemTree([child], 'tank/a', `backup/${'t'.repeat(30)}`), listingError('INVALID_NAME', child));
  });

  test('invalid roots are the caller’s error', () => {
    assert.throws(() => mapFilesystemTree([], 'tank/a/', 'b'), PlanArgumentError);
    assert.throws(() => mapFilesystemTree([], 'tank/a', '-R'), PlanArgumentError);
  });

  test('an empty listing maps to nothing', () => {
    assert.deepEqual(mapFilesystemTree([], 'tank/a', 'b'), []);
  });
});

describe('findTargetsMissingOnSender', () => {
  test('reports target filesystems whose source is gone, parents first, ignoring what is not ours', () => {
    const missing = findTargetsMissingOnSender(
      ['backup/a', 'backup/a/kept', 'backup/a/gone/child', 'backup/a/gone', 'backup/ab', 'backup/other'],
      ['tank/a', 'tank/a/kept', 'tank/a/new'],
      'tank/a',
      'backup/a',
    );
    assert.deepEqual(missing, [
      { source: 'tank/a/gone', target: 'backup/a/gone' },
      { source: 'tank/a/gone/child', target: 'backup/a/gone/child' },
    ]);
  });

  test('nothing missing when the trees match', () => {
    assert.deepEqual(findTargetsMissingOnSender(['b', 'b/x'], ['t', 't/x'], 't', 'b'), []);
  });

  test('still refuses a hostile source listing, and invalid target names', () => {
    assert.throws(() => findTargetsMissingOnSender([], ['t', 'tx'], 't', 'b'), listingError('OUTSIDE_ROOT', 'tx'));
    assert.throws(() => findTargetsMissingOnSender(['b/../x'], ['t'], 't', 'b'), listingError('INVALID_NAME', 'b/../x'));
  });
});

describe('dataset names', () => {
  test('valid names pass', () => {
    for (const name of ['tank', 'tank/a', 'Tank_1/a-b.c:d e', 'p/0']) assert.equal(filesystemNameProblem(name), undefined, name);
  });

  test('isAtOrBelow compares whole components', () => {
    assert.equal(isAtOrBelow('tank/a', 'tank/a'), true);
    assert.equal(isAtOrBelow('tank/a/b', 'tank/a'), true);
    assert.equal(isAtOrBelow('tank/ab', 'tank/a'), false);
    assert.equal(isAtOrBelow('tank', 'tank/a'), false);
  });
});
