import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findOverlap, refuseOverlap } from '../../../replication/planner/overlap.js';
import { OverlappingTargetError } from '../../../replication/planner/errors.js';

const POOL = '6836676237574684463';
const OTHER = '120809416332306463';
const on = (dataset: string, poolGuid: string | null = POOL) => ({ dataset, poolGuid });

describe('findOverlap', () => {
  test('the same dataset on one pool', () => {
    assert.equal(findOverlap(on('tank/a'), on('tank/a')), 'same');
    assert.equal(findOverlap(on('tank'), on('tank')), 'same');
  });

  test('a target inside the source, at any depth', () => {
    assert.equal(findOverlap(on('tank/a'), on('tank/a/copy')), 'target-inside-source');
    assert.equal(findOverlap(on('tank/a'), on('tank/a/b/c/d')), 'target-inside-source');
    assert.equal(findOverlap(on('tank'), on('tank/backup')), 'target-inside-source');
  });

  test('a target containing the source, up to the pool root', () => {
    assert.equal(findOverlap(on('tank/q/w'), on('tank/q')), 'source-inside-target');
    assert.equal(findOverlap(on('tank/q/w/e'), on('tank')), 'source-inside-target');
  });

  test('siblings and names that merely share a prefix do not overlap', () => {
    assert.equal(findOverlap(on('tank/a'), on('tank/b')), undefined);
    assert.equal(findOverlap(on('tank/a'), on('tank/ab')), undefined);
    assert.equal(findOverlap(on('tank/ab'), on('tank/a')), undefined);
    assert.equal(findOverlap(on('tank/a b'), on('tank/a')), undefined);
    assert.equal(findOverlap(on('tank/a/x'), on('tank/a/y/x')), undefined);
  });

  test('the same names on pools with different guids (other hosts) do not overlap', () => {
    assert.equal(findOverlap(on('tank/a', POOL), on('tank/a', OTHER)), undefined);
    assert.equal(findOverlap(on('tank/a', POOL), on('tank/a/copy', OTHER)), undefined);
    assert.equal(findOverlap(on('tank/q/w', POOL), on('tank/q', OTHER)), undefined);
  });

  test('the pool guid decides, not the pool name: different names with one guid still compare by name', () => {
    // One pool is reached under one name; the names then say how the datasets lie.
    assert.equal(findOverlap(on('tank/a', POOL), on('backup/a', POOL)), undefined);
  });

  test('a side whose pool does not exist overlaps nothing', () => {
    assert.equal(findOverlap(on('tank/a', null), on('tank/a', POOL)), undefined);
    assert.equal(findOverlap(on('tank/a', POOL), on('tank/a/copy', null)), undefined);
    assert.equal(findOverlap(on('tank/a', null), on('tank/a', null)), undefined);
  });
});

describe('refuseOverlap', () => {
  test('throws a usage-class error naming both datasets and how they overlap', () => {
    const cases = [
      ['tank/a', 'tank/a', 'same', /same dataset/],
      ['tank/a', 'tank/a/copy', 'target-inside-source', /target lies inside the source/],
      ['tank/q/w', 'tank/q', 'source-inside-target', /target contains the source/],
    ] as const;
    for (const [source, target, overlap, words] of cases) {
      assert.throws(
        () => refuseOverlap(on(source), on(target)),
        (error: unknown) => {
          assert.ok(error instanceof OverlappingTargetError);
          assert.equal(error.code, 'OVERLAPPING_TARGET');
          assert.equal(error.overlap, overlap);
          assert.equal(error.source, source);
          assert.equal(error.target, target);
          assert.equal(error.poolGuid, POOL);
          assert.ok(error.message.includes(`${source} to ${target}`), error.message);
          assert.ok(error.message.includes(POOL), error.message);
          assert.match(error.message, words);
          return true;
        },
      );
    }
  });

  test('returns quietly when the sides are apart', () => {
    refuseOverlap(on('tank/a'), on('tank/b'));
    refuseOverlap(on('tank/a', POOL), on('tank/a', OTHER));
    refuseOverlap(on('tank/a', null), on('tank/a/b'));
  });
});
