import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeRule, parseKeepRule, parseKeepRules, PruningRuleError } from '../../../replication/pruning/index.js';

describe('parseKeepRules: the rules as config keeps them', () => {
  test('every rule type, with defaults', () => {
    const rules = parseKeepRules(
      [
        { type: 'not_replicated' },
        { type: 'grid', grid: '1x1h(keep=all) | 24x1h', regex: '^zferry_' },
        { type: 'last_n', count: 3 },
        { type: 'regex', regex: '^manual_' },
        { type: 'regex', regex: '^keep', negate: true },
        { type: 'not_replicated', keep_snapshot_at_cursor: false },
      ],
      'keep_sender',
    );
    assert.deepEqual(rules.map(describeRule), [
      'not_replicated',
      'grid 1x1h(keep=all) | 24x1h matching /^zferry_/',
      'last_n 3',
      'regex /^manual_/',
      'regex /^keep/ (negated)',
      'not_replicated (keep_snapshot_at_cursor: false)',
    ]);
    assert.deepEqual(rules[0], { type: 'not_replicated', keepSnapshotAtCursor: true });
    assert.equal(rules[3]?.type === 'regex' && rules[3].negate, false);
  });

  test('regexes match anywhere in the name, as zrepl (Go) matches them', () => {
    const [rule] = parseKeepRules([{ type: 'regex', regex: 'hourly' }], 'keep');
    assert.ok(rule?.type === 'regex' && rule.regex.regex.test('zferry_hourly_1'));
  });

  const bad: Array<[unknown, RegExp]> = [
    ['grid', /keep\[0\]: a keep rule is a map with a type/],
    [{ count: 3 }, /unknown keep rule type undefined: one of grid, last_n, regex, not_replicated/],
    [{ type: 'keep_all' }, /unknown keep rule type "keep_all"/],
    [{ type: 'grid' }, /a grid rule needs grid: like "1x1h\(keep=all\) \| 24x1h \| 14x1d"/],
    [{ type: 'grid', grid: '24x1h', count: 2 }, /a grid rule takes type, grid, regex; not "count"/],
    [{ type: 'grid', grid: '24y1h' }, /keep\[0\]: invalid grid "24y1h": interval 1 of 1/],
    [{ type: 'grid', grid: '24x1h', regex: '(' }, /regex "\(" is not a valid regular expression/],
    [{ type: 'last_n' }, /count must be a positive whole number, not undefined/],
    [{ type: 'last_n', count: 0 }, /count must be a positive whole number, not 0/],
    [{ type: 'last_n', count: 2.5 }, /count must be a positive whole number, not 2.5/],
    [{ type: 'last_n', count: '3' }, /count must be a positive whole number, not "3"/],
    [{ type: 'last_n', count: 3, regex: '' }, /regex must be a non-empty regular expression/],
    [{ type: 'regex' }, /regex must be a non-empty regular expression/],
    [{ type: 'regex', regex: '^a', negate: 'yes' }, /negate must be true or false/],
    [{ type: 'not_replicated', keep_snapshot_at_cursor: 1 }, /keep_snapshot_at_cursor must be true or false/],
    [{ type: 'not_replicated', count: 1 }, /a not_replicated rule takes type, keep_snapshot_at_cursor; not "count"/],
  ];
  for (const [raw, message] of bad) {
    test(`refuses ${JSON.stringify(raw)}`, () => {
      assert.throws(
        () => parseKeepRule(raw, 'keep[0]'),
        (err: unknown) => err instanceof PruningRuleError && err.code === 'PRUNING_RULE' && message.test(err.message),
      );
    });
  }

  test('the position in the list names the rule', () => {
    assert.throws(() => parseKeepRules([{ type: 'last_n', count: 1 }, { type: 'last_n' }], 'keep_receiver'), /^PruningRuleError: keep_receiver\[1\]: count/);
  });
});
