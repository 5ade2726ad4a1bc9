// The token bucket on an injected clock: whatever the takers ask and when, the bytes granted
// over any window stay within capacity + rate × window, takers are served in the order they asked,
// each is served as soon as the rate allows, aborted takers take nothing, and the bucket waits
// on one timer at a time (no polling).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as flush } from 'node:timers/promises';
import fc from 'fast-check';
import { TakeAbortedError, TokenBucket, type BucketClock } from '../../../replication/throttle/token-bucket.js';

/** A clock that moves only when the test runs its timers, each at its due time. */
class FakeClock implements BucketClock {
  time = 0;
  fired = 0;
  #timers: Array<{ due: number; seq: number; fn: () => void }> = [];
  #seq = 0;

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { due: this.time + ms, seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  get pending(): number {
    return this.#timers.length;
  }

  /** Fires every timer in due order (timers set meanwhile included), letting promises settle after each. */
  async runAll(limit = 100_000): Promise<void> {
    await flush();
    for (let fired = 0; this.#timers.length > 0; fired++) {
      if (fired > limit) throw new Error('timers never stop');
      this.#timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      const next = this.#timers.shift();
      if (next === undefined) break;
      this.time = Math.max(this.time, next.due);
      this.fired += 1;
      next.fn();
      await flush();
    }
  }
}

interface Taker {
  at: number;
  bytes: number;
  /** Aborts this long after it asked, if set. */
  abortAfter?: number;
}

interface Outcome {
  index: number;
  at: number;
  bytes: number;
  aborted: boolean;
}

/** Runs `takers` against one bucket; each asks at its time. Outcomes in the order they settled. */
async function simulate(rate: number, capacity: number, takers: readonly Taker[]): Promise<{ outcomes: Outcome[]; bucketTimers: number; clock: FakeClock }> {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ bytesPerSecond: rate, capacityBytes: capacity, clock });
  const outcomes: Outcome[] = [];
  let driverTimers = 0;
  takers.forEach((taker, index) => {
    driverTimers += 1;
    clock.setTimer(() => {
      const controller = new AbortController();
      if (taker.abortAfter !== undefined) {
        driverTimers += 1;
        clock.setTimer(() => controller.abort(new Error('stop')), taker.abortAfter);
      }
      bucket.take(taker.bytes, controller.signal).then(
        () => outcomes.push({ index, at: clock.now(), bytes: taker.bytes, aborted: false }),
        (error: unknown) => {
          assert.ok(error instanceof TakeAbortedError, String(error));
          outcomes.push({ index, at: clock.now(), bytes: taker.bytes, aborted: true });
        },
      );
    }, taker.at);
  });
  await clock.runAll();
  assert.equal(bucket.waiting, 0, 'nobody is left waiting');
  return { outcomes, bucketTimers: clock.fired - driverTimers, clock };
}

const takerArb = fc.record(
  {
    at: fc.integer({ min: 0, max: 5_000 }),
    bytes: fc.integer({ min: 1, max: 300_000 }),
    abortAfter: fc.integer({ min: 0, max: 3_000 }),
  },
  { requiredKeys: ['at', 'bytes'] },
);

test('granted bytes never exceed capacity + rate × elapsed, at any moment', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1_000, max: 1_000_000 }),
      fc.integer({ min: 1, max: 200_000 }),
      fc.array(takerArb, { minLength: 1, maxLength: 30 }),
      async (rate, capacity, takers) => {
        const { outcomes } = await simulate(rate, capacity, takers);
        let granted = 0;
        for (const outcome of outcomes) {
          if (outcome.aborted) continue;
          granted += outcome.bytes;
          // Float rounding of the refill: a millionth of a byte per taker at most.
          assert.ok(
            granted <= capacity + (rate * outcome.at) / 1000 + 1e-3,
            `${granted} bytes granted by ${outcome.at} ms (rate ${rate}, capacity ${capacity})`,
          );
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('over any window, takes no larger than the bucket are granted at most capacity + rate × window', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1_000, max: 1_000_000 }),
      fc.integer({ min: 1, max: 200_000 }),
      fc.array(takerArb, { minLength: 1, maxLength: 30 }),
      async (rate, capacity, drawn) => {
        // (A larger take is one grant of more than the bucket at its instant: the stream slices.)
        const takers = drawn.map((taker) => ({ ...taker, bytes: (taker.bytes % capacity) + 1 }));
        const granted = (await simulate(rate, capacity, takers)).outcomes.filter((o) => !o.aborted);
        for (const [i, first] of granted.entries()) {
          let bytes = 0;
          for (const last of granted.slice(i)) {
            bytes += last.bytes;
            // Waits are whole milliseconds (rounded up): what accrued in the rounding goes out at
            // the timer's instant, up to one millisecond of the rate on top of the window's share.
            const allowed = capacity + (rate * (last.at - first.at + 1)) / 1000 + 1e-3;
            assert.ok(bytes <= allowed, `${bytes} bytes granted from ${first.at} to ${last.at} ms (rate ${rate}, capacity ${capacity})`);
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('takers are served in the order they asked, each as soon as the rate allows, on few timers', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1_000, max: 1_000_000 }),
      fc.integer({ min: 1, max: 200_000 }),
      fc.array(
        takerArb.map(({ at, bytes }) => ({ at, bytes })),
        { minLength: 1, maxLength: 30 },
      ),
      async (rate, capacity, takers) => {
        const { outcomes, bucketTimers } = await simulate(rate, capacity, takers);
        // Asked in time order, ties in array order (the driver's timers fire so).
        const asked = takers.map((taker, index) => ({ ...taker, index })).sort((a, b) => a.at - b.at || a.index - b.index);
        assert.deepEqual(
          outcomes.map((o) => o.index),
          asked.map((t) => t.index),
          'FIFO',
        );
        // Work-conserving: no later than its own bytes at full rate after it asked or its predecessor
        // was served, plus a millisecond per timer (timers round up).
        let previous = 0;
        let timersAllowed = 0;
        for (const [position, taker] of asked.entries()) {
          const outcome = outcomes[position];
          assert.ok(outcome !== undefined);
          // One timer for what it lacks, one more if float rounding left a sliver.
          const wakes = 2;
          timersAllowed += wakes;
          const latest = Math.max(taker.at, previous) + (taker.bytes * 1000) / rate + wakes;
          assert.ok(outcome.at <= latest, `taker ${taker.index} (${taker.bytes} B at ${taker.at}) served at ${outcome.at}, latest ${latest}`);
          previous = outcome.at;
        }
        // No polling: the bucket's timers are bounded by what the takers needed.
        assert.ok(bucketTimers <= timersAllowed, `${bucketTimers} timers for ${takers.length} takers (at most ${timersAllowed})`);
      },
    ),
    { numRuns: 200 },
  );
});

test('a take larger than the bucket passes after (bytes - capacity) / rate', async () => {
  const { outcomes } = await simulate(1_000_000, 100_000, [{ at: 0, bytes: 1_000_000 }]);
  assert.equal(outcomes.length, 1);
  assert.ok(outcomes[0] !== undefined && outcomes[0].at >= 900 && outcomes[0].at <= 902, `served at ${outcomes[0]?.at}`);
});

test('an aborted taker rejects at once, takes nothing, and does not hold up those behind it', async () => {
  // 1000 B/s, 1000 B bucket: A drains it; B (2000 B) would be served at 2000 ms but aborts at
  // 500 ms; C (500 B) then goes at 500 ms + what A left (B's paid share comes back).
  const { outcomes } = await simulate(1_000, 1_000, [
    { at: 0, bytes: 1_000 },
    { at: 0, bytes: 2_000, abortAfter: 500 },
    { at: 0, bytes: 500 },
  ]);
  const byIndex = new Map(outcomes.map((o) => [o.index, o]));
  assert.equal(byIndex.get(0)?.at, 0);
  assert.deepEqual({ aborted: byIndex.get(1)?.aborted, at: byIndex.get(1)?.at }, { aborted: true, at: 500 });
  assert.equal(byIndex.get(2)?.aborted, false);
  assert.ok((byIndex.get(2)?.at ?? Infinity) <= 501, `C served at ${byIndex.get(2)?.at}`);
});

test('an already aborted signal rejects without waiting or taking', async () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ bytesPerSecond: 1_000, capacityBytes: 1_000, clock });
  await assert.rejects(bucket.take(10, AbortSignal.abort(new Error('no'))), TakeAbortedError);
  // The whole bucket is still there.
  await bucket.take(1_000);
  assert.equal(clock.pending, 0);
});

test('limits that cannot pace anything are refused', () => {
  assert.throws(() => new TokenBucket({ bytesPerSecond: 0, capacityBytes: 1 }), { code: 'INVALID_BANDWIDTH_LIMIT' });
  assert.throws(() => new TokenBucket({ bytesPerSecond: 1, capacityBytes: 0 }), { code: 'INVALID_BANDWIDTH_LIMIT' });
  assert.throws(() => new TokenBucket({ bytesPerSecond: Number.NaN, capacityBytes: 1 }), { code: 'INVALID_BANDWIDTH_LIMIT' });
});
