/**
 * The rpo state machine on a fake clock: a filesystem goes late once its newest replicated
 * snapshot is older than the rpo, reports it once, reports nothing while it stays late,
 * recovers once, and goes late again on a new breach. Never replicated counts from first sight.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LatenessTracker } from '../../../daemon/rpo/lateness.js';

const HOUR = 3_600_000;

describe('LatenessTracker', () => {
  test('late once per breach, recovered once, late again on a new breach', () => {
    const tracker = new LatenessTracker(2 * HOUR);
    const at = (newestAt: number) => [{ source: 'pool/a', newestAt }];
    const t0 = 1_000 * HOUR;
    assert.deepEqual(tracker.evaluate(at(t0), t0 + HOUR), []);
    assert.deepEqual(tracker.evaluate(at(t0), t0 + 2 * HOUR), [], 'exactly the rpo old is not late yet');
    assert.deepEqual(tracker.evaluate(at(t0), t0 + 3 * HOUR), [{ filesystem: 'pool/a', state: 'late', newestAgeMs: 3 * HOUR }]);
    assert.equal(tracker.isLate('pool/a'), true);
    assert.equal(tracker.lateCount, 1);
    assert.deepEqual(tracker.evaluate(at(t0), t0 + 4 * HOUR), [], 'still late: nothing new to report');
    assert.deepEqual(tracker.evaluate(at(t0), t0 + 9 * HOUR), []);
    assert.deepEqual(tracker.evaluate(at(t0 + 9 * HOUR), t0 + 9 * HOUR + 1000), [{ filesystem: 'pool/a', state: 'recovered', newestAgeMs: 1000 }]);
    assert.equal(tracker.isLate('pool/a'), false);
    assert.deepEqual(tracker.evaluate(at(t0 + 9 * HOUR), t0 + 10 * HOUR), []);
    assert.deepEqual(tracker.evaluate(at(t0 + 9 * HOUR), t0 + 12 * HOUR), [{ filesystem: 'pool/a', state: 'late', newestAgeMs: 3 * HOUR }]);
  });

  test('filesystems are judged each on its own', () => {
    const tracker = new LatenessTracker(HOUR);
    const now = 100 * HOUR;
    const transitions = tracker.evaluate(
      [
        { source: 'pool/old', newestAt: now - 2 * HOUR },
        { source: 'pool/fresh', newestAt: now - 1000 },
      ],
      now,
    );
    assert.deepEqual(transitions, [{ filesystem: 'pool/old', state: 'late', newestAgeMs: 2 * HOUR }]);
    assert.equal(tracker.lateCount, 1);
    assert.equal(tracker.isLate('pool/fresh'), false);
  });

  test('a filesystem never replicated is late once the rpo has passed since the job first saw it', () => {
    const tracker = new LatenessTracker(HOUR);
    const fs = [{ source: 'pool/new' }];
    assert.deepEqual(tracker.evaluate(fs, 0), []);
    assert.deepEqual(tracker.evaluate(fs, HOUR), []);
    assert.deepEqual(tracker.evaluate(fs, HOUR + 1), [{ filesystem: 'pool/new', state: 'late' }]);
  });

  test('a filesystem no longer listed is forgotten; a successor tracker (reload) keeps the breaches', () => {
    const tracker = new LatenessTracker(HOUR);
    tracker.evaluate([{ source: 'pool/a', newestAt: 0 }], 2 * HOUR);
    const reloaded = new LatenessTracker(HOUR, tracker);
    assert.deepEqual(reloaded.evaluate([{ source: 'pool/a', newestAt: 0 }], 3 * HOUR), [], 'no second late report after a reload');
    assert.deepEqual(reloaded.evaluate([], 3 * HOUR), []);
    assert.equal(reloaded.lateCount, 0);
  });
});
