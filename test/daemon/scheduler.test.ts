/**
 * The scheduler on a fake clock: ticks at the schedule's times, one invocation at a time
 * (a tick or wakeup while one runs is skipped and counted, never queued), reset stops the
 * running one, stop ends the schedule and waits for it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { intervalTicks, InvocationStopped, JobScheduler, type Running } from '../../daemon/scheduler.js';
import { FakeClock } from '../helpers/fake-clock.js';
import type { Trigger } from '../../daemon/invocation.js';

/** Invocations the test ends by hand. */
class FakeInvocations {
  started: Array<{ trigger: Trigger; at: number; finish: () => void; aborted?: Error }> = [];
  running = 0;
  maxRunning = 0;

  constructor(private readonly clock: FakeClock) {}

  launch = (trigger: Trigger): Running => {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const record: (typeof this.started)[number] = { trigger, at: this.clock.now(), finish };
    this.started.push(record);
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    void done.then(() => {
      this.running -= 1;
    });
    return {
      done,
      abort: (reason) => {
        record.aborted = reason;
        finish();
      },
    };
  };

  finishAll(): void {
    for (const invocation of this.started) invocation.finish();
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the job scheduler', () => {
  test('an interval job runs at start, then on every tick', async () => {
    const clock = new FakeClock();
    const runs = new FakeInvocations(clock);
    const scheduler = new JobScheduler({ nextTick: intervalTicks(10_000, clock.now()), runAtStart: true, launch: runs.launch, clock });
    scheduler.begin();
    assert.deepEqual(
      runs.started.map((r) => r.trigger),
      ['start'],
    );
    assert.equal(scheduler.nextRunAt, clock.now() + 10_000);
    for (let tick = 1; tick <= 3; tick++) {
      runs.finishAll();
      await settle();
      clock.advance(10_000);
    }
    assert.deepEqual(
      runs.started.map((r) => r.trigger),
      ['start', 'schedule', 'schedule', 'schedule'],
    );
    assert.equal(scheduler.skippedTicks, 0);
    assert.equal(clock.pending, 1, 'one timer per job');
  });

  test('a tick while the invocation runs is skipped and counted, never queued or doubled', async () => {
    const clock = new FakeClock();
    const runs = new FakeInvocations(clock);
    const skipped: Array<{ trigger: Trigger; at: number }> = [];
    const start = clock.now();
    const scheduler = new JobScheduler({
      nextTick: intervalTicks(1000, start),
      runAtStart: true,
      launch: runs.launch,
      onSkipped: (trigger, at) => skipped.push({ trigger, at }),
      clock,
    });
    scheduler.begin();
    // The first invocation overruns five ticks.
    clock.advance(5500);
    assert.equal(runs.started.length, 1);
    assert.equal(runs.maxRunning, 1);
    assert.equal(scheduler.skippedTicks, 5);
    assert.equal(scheduler.lastSkippedAt, start + 5000);
    assert.deepEqual(
      skipped.map((s) => s.trigger),
      ['schedule', 'schedule', 'schedule', 'schedule', 'schedule'],
    );
    // Once it ends, nothing skipped is made up: the next run is the next tick.
    runs.finishAll();
    await settle();
    assert.equal(runs.started.length, 1);
    clock.advance(500);
    assert.equal(runs.started.length, 2);
    assert.equal(runs.started[1]?.at, start + 6000);
    assert.equal(runs.maxRunning, 1);
  });

  test('wakeup runs now, and is skipped while an invocation runs', async () => {
    const clock = new FakeClock();
    const runs = new FakeInvocations(clock);
    const scheduler = new JobScheduler({ launch: runs.launch, clock });
    scheduler.begin();
    assert.equal(scheduler.nextRunAt, undefined, 'a manual job has no next run');
    assert.equal(clock.pending, 0, 'and no timer');
    assert.equal(scheduler.wakeup(), true);
    assert.equal(scheduler.running, true);
    assert.equal(scheduler.wakeup(), false);
    assert.equal(scheduler.skippedTicks, 1);
    assert.equal(runs.started.length, 1);
    runs.finishAll();
    await settle();
    assert.equal(scheduler.running, false);
    assert.equal(scheduler.wakeup(), true);
    assert.deepEqual(
      runs.started.map((r) => r.trigger),
      ['wakeup', 'wakeup'],
    );
  });

  test('reset aborts the running invocation; the schedule goes on', async () => {
    const clock = new FakeClock();
    const runs = new FakeInvocations(clock);
    const scheduler = new JobScheduler({ nextTick: intervalTicks(1000, clock.now()), runAtStart: true, launch: runs.launch, clock });
    scheduler.begin();
    assert.equal(scheduler.reset(), true);
    assert.equal(scheduler.stopping, true);
    assert.ok(runs.started[0]?.aborted instanceof InvocationStopped);
    await settle();
    assert.equal(scheduler.running, false);
    assert.equal(scheduler.stopping, false);
    assert.equal(scheduler.reset(), false, 'nothing left to reset');
    clock.advance(1000);
    assert.equal(runs.started.length, 2);
  });

  test('stop ends the ticks, and waits for the running invocation (aborting it when asked)', async () => {
    const clock = new FakeClock();
    const runs = new FakeInvocations(clock);
    const scheduler = new JobScheduler({ nextTick: intervalTicks(1000, clock.now()), runAtStart: true, launch: runs.launch, clock });
    scheduler.begin();
    let stopped = false;
    const stopping = scheduler.stop().then(() => {
      stopped = true;
    });
    await settle();
    assert.equal(stopped, false, 'waits for the invocation to finish');
    assert.equal(clock.pending, 0, 'no timer left');
    clock.advance(5000);
    assert.equal(runs.started.length, 1, 'no tick after stop');
    assert.equal(scheduler.wakeup(), false);
    runs.finishAll();
    await stopping;

    const again = new JobScheduler({ nextTick: intervalTicks(1000, clock.now()), runAtStart: true, launch: runs.launch, clock });
    again.begin();
    await again.stop({ abort: new InvocationStopped('shutdown') });
    assert.equal(runs.started[1]?.aborted?.message, 'stopped: the daemon is shutting down');
  });

  test('a tick beyond the timer limit is reached in several waits', () => {
    const clock = new FakeClock();
    const runs = new FakeInvocations(clock);
    const day = 24 * 3600 * 1000;
    const scheduler = new JobScheduler({ nextTick: (after) => after + 40 * day, launch: runs.launch, clock });
    scheduler.begin();
    clock.advance(30 * day);
    assert.equal(runs.started.length, 0);
    clock.advance(10 * day);
    assert.equal(runs.started.length, 1);
    assert.equal(scheduler.nextRunAt, clock.now() + 40 * day);
  });
});

test('interval ticks are anchored at the start: the first strictly after a time', () => {
  const next = intervalTicks(1000, 5000);
  assert.equal(next(5000), 6000);
  assert.equal(next(5999), 6000);
  assert.equal(next(6000), 7000);
  assert.equal(next(12_345), 13_000);
});
