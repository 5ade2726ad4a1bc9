import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BULK_STREAM_V8_SETTINGS, tuneV8ForBulkStreams, v8SettingsToApply } from '../../platform/v8-tuning.js';
import '../../rpc/index.js';
import '../../transport/index.js';

const ALL = BULK_STREAM_V8_SETTINGS.map((s) => s.setting);

test('loading the RPC and the transports sets no V8 flag; the first explicit call does, once', () => {
  // Both layers were imported above: had either tuned the process, this call would say 'already'.
  assert.deepEqual(tuneV8ForBulkStreams([]), ALL);
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
