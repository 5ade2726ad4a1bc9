import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tuneGcForBulkStreams } from '../../rpc/gc-tuning.js';
import '../../rpc/mux.js';

test('the RPC layer sets its GC flag once, when it is loaded', () => {
  // mux.js applied it on import (this test process has no explicit flag); later calls do nothing.
  assert.equal(tuneGcForBulkStreams([]), 'already');
});
