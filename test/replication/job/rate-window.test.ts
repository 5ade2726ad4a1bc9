// The rate in a filesystem's live status: what the transfer does over the last few seconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateWindow } from '../../../replication/job/rate-window.js';

test('the rate follows the last seconds: a transfer that slows down or stalls shows it', () => {
  const rate = new RateWindow(5_000);
  assert.equal(rate.rate(0), 0, 'nothing recorded');
  // 1000 B/s for ten seconds.
  for (let second = 0; second <= 10; second++) rate.record(second * 1_000, second * 1_000);
  assert.equal(rate.rate(10_000), 1_000);
  // Then 100 B/s: five seconds later only the slow part counts.
  for (let second = 11; second <= 15; second++) rate.record(second * 1_000, 10_000 + (second - 10) * 100);
  assert.equal(rate.rate(15_000), 100);
  // Then nothing at all: the rate falls (300 B since 12 s, the last record before the window),
  // and is 0 once the window holds no progress.
  assert.equal(rate.rate(17_500), (300 * 1_000) / 5_500);
  assert.equal(rate.rate(21_000), 0);
});
