import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, findNewestCommon, shortName, sortVersions } from '../../../replication/planner/versions.js';
import { bookmark, received, snapshot } from '../../helpers/replication-history.js';

describe('version ordering', () => {
  test('by createtxg; a snapshot before its bookmark; then guid as a number, not as text', () => {
    const a = snapshot('p/f', 'a', '18446744073709551615', 5);
    const bA = bookmark('p/f', 'a', '18446744073709551615', 5);
    const c = snapshot('p/f', 'c', '9007199254740993', 7);
    const d = snapshot('p/f', 'd', '10000000000000000000', 7);
    assert.deepEqual(
      sortVersions([d, bA, c, a]).map((v) => v.fullName),
      ['p/f@a', 'p/f#a', 'p/f@c', 'p/f@d'],
    );
    assert.ok(compareVersions(a, a) === 0);
  });

  test('shortName marks snapshots with @ and bookmarks with #', () => {
    assert.equal(shortName(snapshot('p/f', 'x', '1', 1)), '@x');
    assert.equal(shortName(bookmark('p/f', 'x', '1', 1)), '#x');
  });
});

describe('findNewestCommon', () => {
  const s1 = snapshot('p/src', 's1', '9007199254740993', 10);
  const s2 = snapshot('p/src', 's2', '9007199254740995', 20);
  const b2 = bookmark('p/src', 'b2', s2.guid, 20);

  test('the newest shared guid, by the source createtxg', () => {
    const common = findNewestCommon([s1, s2], [received(s1, 'p/dst', 300), received(s2, 'p/dst', 200)]);
    assert.equal(common?.sender, s2);
    assert.equal(common?.receiver.createtxg, 200);
  });

  test('prefers a snapshot over its bookmark, in either input order', () => {
    const receiver = [received(s2, 'p/dst', 1)];
    assert.equal(findNewestCommon([b2, s2], receiver)?.sender, s2);
    assert.equal(findNewestCommon([s2, b2], receiver)?.sender, s2);
    assert.equal(findNewestCommon([b2], receiver)?.sender, b2);
  });

  test('none when no guid matches exactly', () => {
    assert.equal(findNewestCommon([s1], [snapshot('p/dst', 's1', '9007199254740992', 1)]), undefined);
    assert.equal(findNewestCommon([], []), undefined);
  });
});
