import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DurationError, durationProblem, formatDuration, parseDuration } from '../../config/duration.js';

test('durations as zrepl writes them, in milliseconds', () => {
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('2m30s500ms'), 150_500);
});

test('what is not a duration, and why', () => {
  assert.equal(durationProblem('0s'), 'it is 0');
  assert.equal(durationProblem('0m0s'), 'it is 0');
  assert.equal(durationProblem('-5m'), 'it is negative');
  assert.equal(durationProblem(''), 'it is empty');
  assert.equal(durationProblem('600'), '600 has no unit (ms, s, m, h or d)');
  assert.equal(durationProblem('10m5'), '5 has no unit (ms, s, m, h or d)');
  assert.equal(durationProblem('10 minutes'), 'cannot read it');
  assert.equal(durationProblem('1h30x'), 'cannot read "30x"');
  assert.equal(durationProblem('0.5ms'), 'it is not a whole number of milliseconds');
  assert.equal(durationProblem('10m'), undefined);
  assert.throws(
    () => parseDuration('10x'),
    (error: unknown) => error instanceof DurationError && error.code === 'INVALID_DURATION' && /"10x": cannot read it; write it like/.test(error.message),
  );
});

test('formatDuration writes the shortest form that reads back to the same milliseconds', () => {
  assert.equal(formatDuration(600_000), '10m');
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(90_061_001), '1d1h1m1s1ms');
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10 * 86_400_000 }), (ms) => {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }),
  );
});
