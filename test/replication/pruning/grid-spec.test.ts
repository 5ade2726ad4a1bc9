import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KEEP_ALL, parseGridSpec, PruningRuleError } from '../../../replication/pruning/index.js';

const H = 3_600_000;
const D = 24 * H;

describe('parseGridSpec: what reads', () => {
  test("zrepl's documented example expands into its buckets, newest first", () => {
    const grid = parseGridSpec('1x1h(keep=all) | 24x1h | 14x1d');
    assert.deepEqual(
      grid.intervals.map(({ count, lengthMs, keep, text }) => ({ count, lengthMs, keep, text })),
      [
        { count: 1, lengthMs: H, keep: KEEP_ALL, text: '1x1h(keep=all)' },
        { count: 24, lengthMs: H, keep: 1, text: '24x1h' },
        { count: 14, lengthMs: D, keep: 1, text: '14x1d' },
      ],
    );
    assert.equal(grid.buckets.length, 39);
    assert.equal(grid.text, '1x1h(keep=all) | 24x1h | 14x1d');
    // Buckets follow each other without gaps: each begins where the one before ends.
    assert.deepEqual(
      grid.buckets.slice(0, 3).map((b) => b.startMs),
      [0, H, 2 * H],
    );
    assert.equal(grid.buckets[25]?.startMs, 25 * H);
    assert.equal(grid.buckets[26]?.startMs, 25 * H + D);
    assert.deepEqual([grid.buckets[3]?.interval.text, grid.buckets[3]?.indexInInterval], ['24x1h', 3]);
  });

  test('spaces, keep counts, weeks and compound durations', () => {
    const grid = parseGridSpec(' 2 x 30m ( keep = 3 )|3x1h30m|  1x2w');
    assert.deepEqual(
      grid.intervals.map(({ count, lengthMs, keep }) => [count, lengthMs, keep]),
      [
        [2, 30 * 60_000, 3],
        [3, 1.5 * H, 1],
        [1, 14 * D, 1],
      ],
    );
    assert.equal(grid.text, '2x30m(keep=3) | 3x1h30m | 1x2w');
  });

  test('a keep=all interval may be followed by shorter buckets (as zrepl allows)', () => {
    assert.equal(parseGridSpec('1x1d(keep=all) | 24x1h').buckets.length, 25);
  });

  test('equal lengths one after another are fine', () => {
    assert.equal(parseGridSpec('1x1h(keep=2) | 1x1h | 1x60m').buckets.length, 3);
  });
});

describe('parseGridSpec: what does not read, and what the message says', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['', /interval 1 of 1 is empty/],
    ['1x1h |', /interval 2 of 2 is empty/],
    ['24y1h', /interval 1 of 1 "24y1h" is not N x DURATION/],
    ['x1h', /"x1h" is not N x DURATION/],
    ['0x1h', /"0x1h" has 0 buckets/],
    ['1x0s', /duration "0s" is 0/],
    ['1x10', /duration "10" has no unit \(s, m, h, d or w\)/],
    ['1x1y', /cannot read duration "1y"/],
    ['1x1h(keep=0)', /keep=0 would keep nothing/],
    ['1x1h(keep=-1)', /keep=-1 is neither a whole number nor all/],
    ['1x1h(keep=some)', /keep=some is neither a whole number nor all/],
    ['1x1h(hold=1)', /unknown parameter "hold=1"/],
    ['1x1h | 1x1d | 24x1h', /interval 3 \(24x1h\) has shorter buckets than interval 2 \(1x1d\)/],
    ['1000001x1s', /1000001 buckets; at most 100000/],
    [24, /the grid must be a string/],
  ];
  for (const [spec, message] of cases) {
    test(`${JSON.stringify(spec)} is refused`, () => {
      assert.throws(
        () => parseGridSpec(spec, 'keep_sender[0]'),
        (err: unknown) => {
          assert.ok(err instanceof PruningRuleError);
          assert.equal(err.code, 'PRUNING_RULE');
          assert.equal(err.where, 'keep_sender[0]');
          assert.match(err.message, /^keep_sender\[0\]: /);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  test('the message tells how to write it', () => {
    assert.throws(() => parseGridSpec('24h'), /write each interval like 24x1h, 14x1d or 1x1h\(keep=all\), separated by \|/);
  });
});
