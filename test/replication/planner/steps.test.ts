import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { incrementalSteps, initialSteps } from '../../../replication/planner/steps.js';
import { bookmark, snapshot } from '../../helpers/replication-history.js';

const guid = (n: number): string => (2n ** 62n + BigInt(n)).toString();
const s = (n: number) => snapshot('tank/a', `s${n}`, guid(n), n);
const all = [1, 2, 3, 4, 5, 6].map(s);
const pick = (...ns: number[]) => ns.map(s);

describe('incrementalSteps', () => {
  test('no targets, no steps', () => {
    assert.deepEqual(incrementalSteps(s(1), [], all, true), []);
  });

  test('without batch: a -i chain from the base', () => {
    const steps = incrementalSteps(s(1), pick(2, 3, 5), all, false);
    assert.deepEqual(
      steps.map((x) => [x.from?.name, x.to.name, x.intermediates, x.snapshots.map((v) => v.name)]),
      [
        ['s1', 's2', false, ['s2']],
        ['s2', 's3', false, ['s3']],
        ['s3', 's5', false, ['s5']],
      ],
    );
  });

  test('with batch: -I over consecutive targets, -i across a gap', () => {
    const steps = incrementalSteps(s(1), pick(2, 3, 5, 6), all, true);
    assert.deepEqual(
      steps.map((x) => [x.from?.name, x.to.name, x.intermediates, x.snapshots.map((v) => v.name)]),
      [
        ['s1', 's3', true, ['s2', 's3']],
        ['s3', 's5', false, ['s5']],
        ['s5', 's6', false, ['s6']],
      ],
    );
  });

  test('a bookmark base never starts a -I, even when its snapshot still exists', () => {
    const base = bookmark('tank/a', 'b1', guid(1), 1);
    const steps = incrementalSteps(base, pick(2, 3, 4), all, true);
    assert.deepEqual(
      steps.map((x) => [x.from?.fullName, x.to.name, x.intermediates]),
      [
        ['tank/a#b1', 's2', false],
        ['tank/a@s2', 's4', true],
      ],
    );
  });

  test('a base the source no longer lists as a snapshot only takes -i', () => {
    const steps = incrementalSteps(s(1), pick(2, 3), all.slice(1), true);
    assert.deepEqual(
      steps.map((x) => [x.from?.name, x.to.name, x.intermediates]),
      [
        ['s1', 's2', false],
        ['s2', 's3', false],
      ],
    );
  });
});

describe('initialSteps', () => {
  test("'all' is a full send then incrementals", () => {
    const steps = initialSteps(pick(2, 4, 5), all, 'all', true);
    assert.deepEqual(
      steps.map((x) => [x.from?.name, x.to.name, x.intermediates]),
      [
        [undefined, 's2', false],
        ['s2', 's4', false],
        ['s4', 's5', false],
      ],
    );
    assert.equal('from' in steps[0]!, false, 'a full step has no from at all');
  });

  test("'most-recent' is one full send of the newest", () => {
    assert.deepEqual(
      initialSteps(pick(2, 4), all, 'most-recent', false).map((x) => x.to.name),
      ['s4'],
    );
  });

  test('nothing selected, no steps', () => {
    assert.deepEqual(initialSteps([], all, 'all', false), []);
  });
});
