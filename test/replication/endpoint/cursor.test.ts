import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cursorProperty, cursorTag, formatCursorValue, parseCursorValue, recordedCursor } from '../../../replication/endpoint/cursor.js';
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
  assert.equal(parseCursorValue(formatCursorValue('zferry_20261123T105300Z')), 'zferry_20261123T105300Z');
  for (const bad of ['', '-', 'abc@snap', '-x', 'a\nb', 'x'.repeat(300)]) assert.equal(parseCursorValue(bad), undefined, bad);
});

test('a cursor counts where set here or inherited, never where received or unset', () => {
  assert.deepEqual(recordedCursor({ value: 's2', source: 'local' }), { snapshot: 's2', local: true });
  assert.deepEqual(recordedCursor({ value: 's2', source: 'inherited from tank/a' }), { snapshot: 's2', local: false });
  assert.equal(recordedCursor({ value: 's2', source: 'received' }), undefined);
  assert.equal(recordedCursor({ value: '-', source: '-' }), undefined);
  assert.equal(recordedCursor({ value: '-bad', source: 'local' }), undefined);
  assert.equal(recordedCursor(undefined), undefined);
});
