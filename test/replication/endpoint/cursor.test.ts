import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cursorProperty, cursorTag, formatCursorValue, heldCandidates, parseCursorValue, recordedCursor, settledCursor } from '../../../replication/endpoint/cursor.js';
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

test('a cursor counts where set here or inherited, never where received or unset', () => {
  assert.deepEqual(recordedCursor({ value: 's2', source: 'local' }), { snapshot: 's2', pending: [], local: true });
  assert.deepEqual(recordedCursor({ value: 's2', source: 'inherited from tank/a' }), { snapshot: 's2', pending: [], local: false });
  assert.deepEqual(recordedCursor({ value: 's2,s3', source: 'local' }), { snapshot: 's2', pending: ['s3'], local: true });
  assert.equal(recordedCursor({ value: 's2', source: 'received' }), undefined);
  assert.equal(recordedCursor({ value: '-', source: '-' }), undefined);
  assert.equal(recordedCursor({ value: '-bad', source: 'local' }), undefined);
  assert.equal(recordedCursor(undefined), undefined);
});
