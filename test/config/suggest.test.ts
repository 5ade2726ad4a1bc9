import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, didYouMean, editDistance } from '../../config/suggest.js';

const JOB_KEYS = ['name', 'type', 'connect', 'filesystems', 'root_fs', 'path_mapping', 'interval', 'cron', 'snapshotting', 'pruning', 'send'];

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('filesytems', 'filesystems'), 1);
  assert.equal(editDistance('pruinng', 'pruning'), 1);
  assert.equal(editDistance('abc', 'abc'), 0);
  assert.equal(editDistance('', 'abc'), 3);
});

test('close misspellings are suggested; unrelated words are not', () => {
  assert.equal(closest('filesytems', JOB_KEYS), 'filesystems');
  assert.equal(closest('rootfs', JOB_KEYS), 'root_fs');
  assert.equal(closest('root-fs', JOB_KEYS), 'root_fs');
  assert.equal(closest('Interval', JOB_KEYS), 'interval');
  assert.equal(closest('snapshoting', JOB_KEYS), 'snapshotting');
  assert.equal(closest('hooks', JOB_KEYS), undefined);
  assert.equal(closest('xyz', JOB_KEYS), undefined);
  assert.equal(didYouMean('prunning', JOB_KEYS), " (did you mean 'pruning'?)");
  assert.equal(didYouMean('banana', JOB_KEYS), '');
});
