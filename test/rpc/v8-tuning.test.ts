import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BULK_STREAM_V8_SETTINGS, tuneV8ForBulkStreams, v8SettingsToApply } from '../../rpc/v8-tuning.js';
import '../../rpc/mux.js';

const ALL = BULK_STREAM_V8_SETTINGS.map((s) => s.setting);

test('the RPC layer sets its V8 flags once, when it is loaded', () => {
  // mux.js applied them on import; later calls do nothing.
  assert.equal(tuneV8ForBulkStreams([]), 'already');
});

test('every setting applies when node was started without V8 options', () => {
  assert.deepEqual(v8SettingsToApply([]), ALL);
  assert.deepEqual(v8SettingsToApply(['--enable-source-maps', '--max-old-space-size=512']), ALL);
});

test('a flag given on the command line wins, in any spelling', () => {
  const withoutMarking = ALL.filter((s) => !s.includes('incremental-marking'));
  const withoutInlining = ALL.filter((s) => !s.includes('inlined'));
  assert.deepEqual(v8SettingsToApply(['--incremental-marking']), withoutMarking);
  assert.deepEqual(v8SettingsToApply(['--no-incremental-marking']), withoutMarking);
  assert.deepEqual(v8SettingsToApply(['--incremental_marking']), withoutMarking);
  assert.deepEqual(v8SettingsToApply(['--max-inlined-bytecode-size-cumulative=920']), withoutInlining);
  assert.deepEqual(v8SettingsToApply(['--max_inlined_bytecode_size_cumulative=10', '--no-incremental-marking']), []);
});
