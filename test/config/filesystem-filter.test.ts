/**
 * The `filesystems` filter against a reference written the plain way (every matching rule,
 * sorted by specificity), on random rule sets over a small tree where rules collide often; and
 * filterRoots against what a walk from the roots must find.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { filterRoots, parseFilterKey, selectFilesystem, type FilterRuleCore } from '../../config/filesystem-filter.js';

/** Every dataset of two pools, three levels deep, two names per level. */
const UNIVERSE: string[] = (() => {
  const names: string[] = [];
  const grow = (prefix: string, depth: number): void => {
    names.push(prefix);
    if (depth < 3) for (const child of ['a', 'b']) grow(`${prefix}/${child}`, depth + 1);
  };
  for (const pool of ['p', 'q']) grow(pool, 0);
  return names;
})();

function below(name: string, root: string): boolean {
  return root === '' || name === root || name.startsWith(`${root}/`);
}

/** The reference: of the matching rules, the deepest path wins; on the same path, the exact rule. */
function referenceSelected(rules: readonly FilterRuleCore[], name: string): boolean {
  const matching = rules.filter((rule) => (rule.subtree ? below(name, rule.path) : rule.path === name));
  const depth = (rule: FilterRuleCore) => (rule.path === '' ? 0 : rule.path.split('/').length);
  matching.sort((x, y) => depth(y) - depth(x) || Number(x.subtree) - Number(y.subtree));
  return matching[0]?.include ?? false;
}

const ruleSets = fc.uniqueArray(
  fc.record({ path: fc.constantFrom('', ...UNIVERSE), subtree: fc.boolean(), include: fc.boolean() }).filter((rule) => rule.path !== '' || rule.subtree),
  { maxLength: 8, selector: (rule) => `${rule.path}${rule.subtree ? '<' : ''}` },
);

test('selectFilesystem decides as the reference does, for every dataset', () => {
  fc.assert(
    fc.property(ruleSets, (rules) => {
      for (const name of UNIVERSE) assert.equal(selectFilesystem(rules, name).selected, referenceSelected(rules, name), name);
    }),
    { numRuns: 2000 },
  );
});

test('filterRoots: every selected dataset lies below one root, roots are included rule paths, none below another, none below a selected dataset', () => {
  fc.assert(
    fc.property(ruleSets, (rules) => {
      const roots = filterRoots(rules);
      const selected = UNIVERSE.filter((name) => referenceSelected(rules, name));
      for (const name of selected)
        assert.ok(
          roots.some((root) => below(name, root)),
          `${name} is below no root of ${roots.join(', ')}`,
        );
      for (const root of roots) {
        assert.ok(
          rules.some((rule) => rule.include && rule.path === root),
          `${root} is the path of an including rule`,
        );
        assert.ok(!roots.some((other) => other !== root && below(root, other)), `${root} lies below another root`);
        const ancestors = UNIVERSE.filter((name) => name !== root && below(root, name));
        assert.ok(!ancestors.some((name) => referenceSelected(rules, name)), `${root} has a selected ancestor`);
      }
    }),
    { numRuns: 2000 },
  );
});

test('exact path beats subtree on the same path; the deeper rule beats the shallower one', () => {
  const rules: FilterRuleCore[] = [
    { path: 'tank/a', subtree: true, include: true },
    { path: 'tank/a', subtree: false, include: false },
    { path: 'tank/a/tmp', subtree: true, include: false },
    { path: 'tank/a/tmp/keep', subtree: false, include: true },
  ];
  assert.equal(selectFilesystem(rules, 'tank/a').selected, false);
  assert.equal(selectFilesystem(rules, 'tank/a/b').selected, true);
  assert.equal(selectFilesystem(rules, 'tank/a/tmp').selected, false);
  assert.equal(selectFilesystem(rules, 'tank/a/tmp/x').selected, false);
  assert.equal(selectFilesystem(rules, 'tank/a/tmp/keep').selected, true);
  assert.equal(selectFilesystem(rules, 'tank/ab').selected, false, 'tank/ab is not below tank/a');
  assert.equal(selectFilesystem(rules, 'tank').selected, false, 'no match means not selected');
  assert.deepEqual(filterRoots(rules), ['tank/a']);
});

test('the reason names the deciding rule as written', () => {
  const rules = [
    { path: 'tank', subtree: true, include: true, pattern: 'tank<' },
    { path: 'tank/tmp', subtree: true, include: false, pattern: 'tank/tmp<' },
  ];
  assert.deepEqual(selectFilesystem(rules, 'tank/x'), { selected: true, rule: rules[0], reason: 'selected by "tank<": true' });
  assert.deepEqual(selectFilesystem(rules, 'tank/tmp/y'), {
    selected: false,
    rule: rules[1],
    reason: 'excluded by "tank/tmp<": false (the most specific rule that matches)',
  });
  assert.deepEqual(selectFilesystem(rules, 'other'), { selected: false, reason: 'no rule matches other (not selected)' });
});

test('filterRoots: separate trees, nested includes, "<" for every pool', () => {
  const rule = (key: string, include = true): FilterRuleCore => {
    const parsed = parseFilterKey(key);
    assert.ok(!('problem' in parsed), key);
    return { ...parsed, include };
  };
  assert.deepEqual(filterRoots([rule('tank/home<'), rule('tank/work<'), rule('tank/home/me<')]), ['tank/home', 'tank/work']);
  assert.deepEqual(filterRoots([rule('tank'), rule('tank/a')]), ['tank']);
  assert.deepEqual(filterRoots([rule('tank<', false), rule('tank/a')]), ['tank/a']);
  assert.deepEqual(filterRoots([rule('<'), rule('tmp', false)]), ['']);
  assert.deepEqual(filterRoots([rule('tank<', false)]), []);
});

test('parseFilterKey: subtree mark, every pool, and the keys it refuses', () => {
  assert.deepEqual(parseFilterKey('tank/a<'), { path: 'tank/a', subtree: true });
  assert.deepEqual(parseFilterKey('tank/a'), { path: 'tank/a', subtree: false });
  assert.deepEqual(parseFilterKey('<'), { path: '', subtree: true });
  for (const [key, words] of [
    ['tank/*', 'globs are not supported'],
    ['tank<a', '"<" may only end it'],
    ['tank/a@snap', 'contains "@"'],
    ['-tank', 'starts with "-"'],
    ['/tank', 'starts with "/"'],
    ['tank//a', 'empty component'],
    ['tank/../a', 'has a ".." component'],
    ['', 'is empty'],
  ] as const) {
    const parsed = parseFilterKey(key);
    assert.ok('problem' in parsed && parsed.problem.includes(words), `${key}: ${JSON.stringify(parsed)}`);
  }
});
