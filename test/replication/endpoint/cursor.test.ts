import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AS_PARENT,
  cursorProperty,
  cursorTag,
  formatCursorValue,
  heldCandidates,
  parseCursorValue,
  recordedCursor,
  resolveCursors,
  settledCursor,
} from '../../../replication/endpoint/cursor.js';
import { validateHoldTag, validateUserPropertyName } from '../../../replication/zfs/index.js';

test('cursor tags name the job and the destination, and differ per destination', () => {
  const a = cursorTag('push', 'ssh://root@nas/backup/a');
  const b = cursorTag('push', 'ssh://root@nas/backup/b');
  assert.match(a, /^zferry_push_[0-9a-f]{12}$/);
  assert.notEqual(a, b);
  assert.equal(a, cursorTag('push', 'ssh://root@nas/backup/a'));
  assert.notEqual(a, cursorTag('nightly', 'ssh://root@nas/backup/a'));
  assert.doesNotThrow(() => validateHoldTag(a));
});

test('the cursor property is a valid user property name', () => {
  const property = cursorProperty(cursorTag('Nightly.Job', 'x'));
  assert.match(property, /^zferry:cursor\.zferry_nightly\.job_[0-9a-f]{12}$/);
  assert.doesNotThrow(() => validateUserPropertyName(property));
});

test('cursor values round-trip and reject garbage', () => {
  assert.equal(formatCursorValue('zferry_20261123T105300Z'), 'zferry_20261123T105300Z');
  assert.deepEqual(parseCursorValue(formatCursorValue('zferry_20261123T105300Z')), { snapshot: 'zferry_20261123T105300Z', pending: [] });
  for (const bad of ['', '-', ',', 'abc@snap', '-x', 'a\nb', 'x'.repeat(300), 's1,a/b', 's1,,s2', 's1,-x']) {
    assert.equal(parseCursorValue(bad), undefined, bad);
  }
});

test('a move under way names the old cursor first, then what may also carry the hold', () => {
  assert.equal(formatCursorValue('s1', ['s2']), 's1,s2');
  assert.equal(formatCursorValue(undefined, ['s1']), ',s1');
  // The cursor never repeats as pending; duplicates collapse.
  assert.equal(formatCursorValue('s1', ['s1', 's2', 's2']), 's1,s2');
  assert.deepEqual(parseCursorValue('s1,s2,s3'), { snapshot: 's1', pending: ['s2', 's3'] });
  assert.deepEqual(parseCursorValue(',s1'), { snapshot: undefined, pending: ['s1'] });
  assert.deepEqual(parseCursorValue('my snap,s2,s2,my snap'), { snapshot: 'my snap', pending: ['s2'] });
});

test('only a finished move has a settled cursor; every named snapshot is a hold candidate', () => {
  assert.equal(settledCursor({ snapshot: 's1', pending: [] }), 's1');
  assert.equal(settledCursor({ snapshot: 's1', pending: ['s2'] }), undefined);
  assert.equal(settledCursor({ snapshot: undefined, pending: ['s2'] }), undefined);
  assert.equal(settledCursor(undefined), undefined);
  assert.deepEqual(heldCandidates({ snapshot: 's1', pending: ['s2'] }), ['s1', 's2']);
  assert.deepEqual(heldCandidates({ snapshot: undefined, pending: ['s2'] }), ['s2']);
  assert.deepEqual(heldCandidates(undefined), []);
});

test('a cursor counts only where set locally; an inherited value only names what to release', () => {
  assert.deepEqual(recordedCursor({ value: 's2', source: 'local' }), { snapshot: 's2', pending: [], storage: 'own' });
  assert.deepEqual(recordedCursor({ value: 's2,s3', source: 'local' }), { snapshot: 's2', pending: ['s3'], storage: 'own' });
  assert.deepEqual(recordedCursor({ value: AS_PARENT, source: 'local' }), { storage: 'as-parent' });
  // Inherited: no cursor (nothing says a hold ever covered this filesystem), only names.
  assert.deepEqual(recordedCursor({ value: 's2', source: 'inherited from tank/a' }), { snapshot: undefined, pending: ['s2'], storage: 'inherited' });
  assert.deepEqual(recordedCursor({ value: 's2,s3', source: 'inherited from tank/a' }), { snapshot: undefined, pending: ['s2', 's3'], storage: 'inherited' });
  assert.equal(
    settledCursor(resolveCursors(new Map([['tank/a/b', recordedCursor({ value: 's2', source: 'inherited from tank/a' })]])).get('tank/a/b')),
    undefined,
  );
  assert.deepEqual(recordedCursor({ value: AS_PARENT, source: 'inherited from tank/a/b' }), {
    snapshot: undefined,
    pending: [],
    storage: 'inherited',
    fromParent: true,
  });
  assert.equal(recordedCursor({ value: 's2', source: 'received' }), undefined);
  assert.equal(recordedCursor({ value: AS_PARENT, source: 'received' }), undefined);
  assert.equal(recordedCursor({ value: '-', source: '-' }), undefined);
  assert.equal(recordedCursor({ value: '-bad', source: 'local' }), undefined);
  assert.equal(recordedCursor({ value: '-bad', source: 'inherited from tank/a' }), undefined);
  assert.equal(recordedCursor(undefined), undefined);
  assert.equal(parseCursorValue(AS_PARENT), undefined, 'never a snapshot list');
});

test("a record stored as the parent's is the parent's, up to the first value set locally", () => {
  const records = resolveCursors(
    new Map([
      ['tank', undefined],
      ['tank/a', recordedCursor({ value: 's2', source: 'local' })],
      ['tank/a/b', recordedCursor({ value: AS_PARENT, source: 'local' })],
      ['tank/a/b/c', recordedCursor({ value: AS_PARENT, source: 'local' })],
      // Created since: inherits the `^` of its parent, so it names what the parent names.
      ['tank/a/b/new', recordedCursor({ value: AS_PARENT, source: 'inherited from tank/a/b' })],
      ['tank/a/d', recordedCursor({ value: 's1,s2', source: 'local' })],
      ['tank/a/d/e', recordedCursor({ value: AS_PARENT, source: 'local' })],
      ['tank/a/f', recordedCursor({ value: 's2', source: 'inherited from tank/a' })],
      ['tank/a/f/g', recordedCursor({ value: AS_PARENT, source: 'local' })],
      // Its parent was not read: nothing to go by.
      ['tank/x/y', recordedCursor({ value: AS_PARENT, source: 'local' })],
    ]),
  );
  assert.deepEqual(Object.fromEntries(records), {
    'tank/a': { snapshot: 's2', pending: [], storage: 'own' },
    'tank/a/b': { snapshot: 's2', pending: [], storage: 'as-parent' },
    'tank/a/b/c': { snapshot: 's2', pending: [], storage: 'as-parent' },
    'tank/a/b/new': { snapshot: undefined, pending: ['s2'], storage: 'inherited' },
    'tank/a/d': { snapshot: 's1', pending: ['s2'], storage: 'own' },
    'tank/a/d/e': { snapshot: 's1', pending: ['s2'], storage: 'as-parent' },
    'tank/a/f': { snapshot: undefined, pending: ['s2'], storage: 'inherited' },
    'tank/a/f/g': { snapshot: undefined, pending: ['s2'], storage: 'as-parent' },
  });
  assert.equal(settledCursor(records.get('tank/a/b/c')), 's2');
  assert.equal(settledCursor(records.get('tank/a/f/g')), undefined);
});
