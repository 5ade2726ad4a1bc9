import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, resolveLimits } from '../../rpc/limits.js';

test('limits: defaults, overrides, and values outside the bounds refused', () => {
  assert.deepEqual(resolveLimits(undefined), DEFAULT_LIMITS);
  assert.equal(resolveLimits({ streamWindow: 1024 * 1024 }).streamWindow, 1024 * 1024);
  assert.throws(() => resolveLimits({ maxFramePayload: 100 }), /maxFramePayload must be an integer in/);
  assert.throws(() => resolveLimits({ connectionWindow: 2 ** 31 }), /connectionWindow/);
  assert.throws(() => resolveLimits({ keepaliveTimeoutMs: 0 }), /keepaliveTimeoutMs must be a positive number/);
});
