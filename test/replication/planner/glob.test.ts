import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSnapshotSelector, globMatch } from '../../../replication/planner/glob.js';
import { SeededRandom } from '../../helpers/replication-history.js';

describe('globMatch', () => {
  test('is anchored at both ends', () => {
    assert.equal(globMatch('daily', 'daily'), true);
    assert.equal(globMatch('daily', 'daily_1'), false);
    assert.equal(globMatch('daily', 'x_daily'), false);
    assert.equal(globMatch('daily*', 'daily_1'), true);
    assert.equal(globMatch('*daily', 'x_daily'), true);
  });

  test('* matches any run, also an empty one', () => {
    assert.equal(globMatch('*', ''), true);
    assert.equal(globMatch('*', 'anything at all'), true);
    assert.equal(globMatch('a*b', 'ab'), true);
    assert.equal(globMatch('a*b', 'aXYZb'), true);
    assert.equal(globMatch('a*b', 'aXYZbc'), false);
    assert.equal(globMatch('a*b*c', 'a_b_b_c'), true);
    assert.equal(globMatch('a*b*c', 'a_c_b'), false);
    assert.equal(globMatch('**', 'x'), true);
  });

  test('? matches exactly one character', () => {
    assert.equal(globMatch('s?', 's1'), true);
    assert.equal(globMatch('s?', 's'), false);
    assert.equal(globMatch('s?', 's12'), false);
    assert.equal(globMatch('??', '€x'), true);
    // One character outside the BMP is one `?`, not two.
    assert.equal(globMatch('a?b', 'a😀b'), true);
  });

  test('regex special characters are literal', () => {
    assert.equal(globMatch('a.b', 'a.b'), true);
    assert.equal(globMatch('a.b', 'axb'), false);
    assert.equal(globMatch('(x)+[y]$^|\\{2}', '(x)+[y]$^|\\{2}'), true);
    assert.equal(globMatch('a+', 'aa'), false);
    assert.equal(globMatch('[ab]', 'a'), false);
    assert.equal(globMatch('^a', 'a'), false);
  });

  test('an empty pattern matches only the empty name', () => {
    assert.equal(globMatch('', ''), true);
    assert.equal(globMatch('', 'a'), false);
  });

  test('a pathological pattern on a long name finishes (no exponential backtracking)', () => {
    const name = 'a'.repeat(5000);
    assert.equal(globMatch('*a*a*a*a*a*a*a*a*a*a*b', name), false);
    assert.equal(globMatch('*a*a*a*a*a*a*a*a*a*a*', name), true);
  });

  test('agrees with a RegExp reference on random patterns and names', () => {
    const rng = new SeededRandom(7);
    const alphabet = ['a', 'b', '.', '_', '*', '?', '+', '(', '['];
    const nameAlphabet = ['a', 'b', '.', '_', '*', '?', '+', '(', '[', 'c'];
    const reference = (pattern: string): RegExp =>
      new RegExp(
        `^${Array.from(pattern)
          .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
          .join('')}$`,
        's',
      );
    for (let i = 0; i < 5000; i += 1) {
      const pattern = Array.from({ length: rng.int(7) }, () => rng.pick(alphabet)).join('');
      const name = Array.from({ length: rng.int(9) }, () => rng.pick(nameAlphabet)).join('');
      assert.equal(globMatch(pattern, name), reference(pattern).test(name), `${JSON.stringify(pattern)} on ${JSON.stringify(name)}`);
    }
  });
});

describe('createSnapshotSelector', () => {
  test('without patterns everything is selected', () => {
    const select = createSnapshotSelector({});
    assert.equal(select('anything'), true);
    assert.equal(createSnapshotSelector({ include: [], exclude: [] })('x'), true);
  });

  test('include is a union; exclude wins over include', () => {
    const select = createSnapshotSelector({ include: ['hourly_*', 'daily_*'], exclude: ['*_tmp'] });
    assert.equal(select('hourly_1'), true);
    assert.equal(select('daily_1'), true);
    assert.equal(select('weekly_1'), false);
    assert.equal(select('daily_tmp'), false);
  });

  test('exclude alone removes from everything', () => {
    const select = createSnapshotSelector({ exclude: ['manual-?'] });
    assert.equal(select('manual-1'), false);
    assert.equal(select('manual-10'), true);
  });
});
