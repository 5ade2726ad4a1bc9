/**
 * The retention grid's edge cases as zrepl's own tests define them
 * (internal/pruning/retentiongrid/retentiongrid_test.go), written anew. zrepl's cases pass an
 * explicit `now`; zferry's grid is always anchored at the newest snapshot, so where zrepl puts
 * an entry after `now` these cases put the anchor snapshot at `now` instead.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketIndexOf, fitGrid, parseGridSpec } from '../../../replication/pruning/index.js';

interface Snap {
  name: string;
  creation: number;
  createtxg: number;
  keep: boolean;
}

const MIN = 60;

/** Snapshots by name, age in seconds relative to t0, and whether zrepl's case keeps them. */
function snaps(list: Array<[string, number, boolean]>): Snap[] {
  const t0 = 1_700_000_000;
  // createtxg follows creation, as it does on one filesystem.
  return [...list].sort((a, b) => a[1] - b[1]).map(([name, offset, keep], i) => ({ name, creation: t0 + offset, createtxg: 100 + i, keep }));
}

function check(spec: string, input: Snap[]): Map<Snap, number> {
  const kept = fitGrid(parseGridSpec(spec), input);
  assert.deepEqual(
    input.filter((s) => kept.has(s)).map((s) => s.name),
    input.filter((s) => s.keep).map((s) => s.name),
  );
  return kept;
}

describe("retention grid: zrepl's edge cases", () => {
  test('empty input keeps nothing and removes nothing', () => {
    assert.equal(fitGrid(parseGridSpec('1x10m | 1x10m | 1x10m | 1x1h'), []).size, 0);
  });

  test('bucket boundaries: left edges are inside, the end of the last bucket is outside', () => {
    const input = snaps([
      ['1', 0, true], // anchor: left edge of bucket 1
      ['2', -10 * MIN, true], // left edge of bucket 2
      ['3', -20 * MIN, true], // left edge of bucket 3
      ['4', -30 * MIN, false], // right edge of bucket 3: outside
      ['5', -40 * MIN, false], // past the grid
    ]);
    const kept = check('3x10m', input);
    assert.deepEqual(
      input.filter((s) => kept.has(s)).map((s) => kept.get(s)),
      [2, 1, 0],
    );
  });

  test('a bucket keeps its oldest snapshots, even when that drops the newest', () => {
    check(
      '1x1m(keep=2)',
      snaps([
        ['1', 1, true],
        ['2', 2, true],
        ['3', 3, false],
        ['4', 4, false],
        ['5', 5, false],
      ]),
    );
  });

  test('keep=all keeps every snapshot of its bucket; the next bucket keeps its oldest', () => {
    check(
      '1x1m(keep=all) | 1x1m',
      snaps([
        ['a', 0, true],
        ['b', -1, true],
        ['c', -2, true],
        ['d', -60, false], // left edge of bucket 2, younger than e
        ['e', -61, true],
      ]),
    );
  });

  test("zrepl's complex grid", () => {
    check(
      '1x10m(keep=all) | 1x10m | 1x10m(keep=2) | 1x1h',
      snaps([
        ['now', 0, true], // the anchor (zrepl: entries at or after now)
        // bucket 1 keeps everything
        ['b1', -6 * MIN, true],
        ['b3', -8 * MIN, true],
        ['b2', -9 * MIN, true],
        // bucket 2 keeps one: the oldest
        ['a', -11 * MIN, false],
        ['c', -19 * MIN, true],
        // bucket 3 keeps two
        ['foo', -25 * MIN, true],
        ['bar', -26 * MIN, true],
        // left edge of bucket 4: inside it, but younger than d
        ['border', -30 * MIN, false],
        ['d', -75 * MIN, true],
        // right edge of bucket 4: outside
        ['q', -90 * MIN, false],
        ['e', -91 * MIN, false],
        ['f', -120 * MIN, false],
      ]),
    );
  });
});

describe('retention grid: zferry specifics', () => {
  test('snapshots in the same second: the lower createtxg is the older', () => {
    const input: Snap[] = [
      { name: 'x', creation: 1000, createtxg: 7, keep: true },
      { name: 'y', creation: 1000, createtxg: 8, keep: false },
    ];
    check('1x1m', input);
  });

  test('bucketIndexOf: ages before the anchor and past the end have no bucket', () => {
    const grid = parseGridSpec('2x1m | 1x1h');
    assert.equal(bucketIndexOf(grid, -1), undefined);
    assert.equal(bucketIndexOf(grid, 0), 0);
    assert.equal(bucketIndexOf(grid, 59_999), 0);
    assert.equal(bucketIndexOf(grid, 60_000), 1);
    assert.equal(bucketIndexOf(grid, 120_000), 2);
    assert.equal(bucketIndexOf(grid, 120_000 + 3_599_999), 2);
    assert.equal(bucketIndexOf(grid, 120_000 + 3_600_000), undefined);
  });

  test('a clock that stepped back: the anchor is the newest creation, not the highest createtxg', () => {
    const input: Snap[] = [
      { name: 'before-step', creation: 2000, createtxg: 1, keep: true },
      { name: 'after-step', creation: 1990, createtxg: 2, keep: true },
    ];
    const kept = check('1x5s | 1x1m', input);
    assert.equal(kept.get(input[0] as Snap), 0);
    assert.equal(kept.get(input[1] as Snap), 1);
  });
});
