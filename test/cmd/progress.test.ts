/** The progress line: bytes and rate always; share done and time left where a size is known. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgressDisplay, describeRunning, formatClock } from '../../cmd/progress.js';
import { JobProgress } from '../../replication/job/status.js';

const MiB = 1024 * 1024;

describe('progress line', () => {
  test('without a size: bytes and rate, no share, no time left', () => {
    const text = describeRunning('tank/a', { step: '1/1', bytes: 10 * MiB, startedMs: 0 }, 2000);
    assert.equal(text, 'tank/a 1/1: 10.0 MiB @ 5.0 MiB/s');
  });

  test("with zfs's own size: share done and time left", () => {
    const text = describeRunning('tank/a', { step: '2/3', bytes: 25 * MiB, startedMs: 0, estimate: { bytes: 100 * MiB, approximate: false } }, 5000);
    assert.equal(text, 'tank/a 2/3: 25.0 MiB of 100.0 MiB (25%) @ 5.0 MiB/s, 0:15 left');
  });

  test('an approximate size is marked, and a stream that overruns it shows no time left', () => {
    const state = { step: '1/1', bytes: 50 * MiB, startedMs: 0, estimate: { bytes: 200 * MiB, approximate: true } };
    assert.match(describeRunning('tank/a', state, 10_000), /of ~200\.0 MiB \(~25%\) @ 5\.0 MiB\/s, ~0:30 left$/);
    const over = describeRunning('tank/a', { ...state, bytes: 210 * MiB }, 10_000);
    assert.match(over, /of ~200\.0 MiB \(~99%\) @ 21\.0 MiB\/s$/, over);
  });

  test('durations', () => {
    assert.equal(formatClock(0), '0:00');
    assert.equal(formatClock(59.6), '1:00');
    assert.equal(formatClock(3725), '1:02:05');
  });

  test('the display keeps each estimate with its own step', () => {
    let clock = 0;
    const written: string[] = [];
    const display = createProgressDisplay({ columns: 200, write: (text: string) => written.push(text) > 0 }, () => clock);
    // The run's live status, telling the display of each change as the job's steps make them.
    const job = new JobProgress(
      { source: 'tank', target: 'backup' },
      () => clock,
      (event) => display.onProgress(event),
    );
    display.follow(job);
    const fs = job.track({ source: 'tank/a', target: 'backup/a' });
    fs.started();
    fs.planned(['x', 'y'], ['x', 'y']);
    fs.stepStarted(0);
    fs.stepDone({ kind: 'full', to: 'tank/a@x', guid: '1', intermediates: false, bytes: 1, durationMs: 1 });
    fs.stepStarted(1);
    // The first step's answer arrives late: it must not label the second.
    fs.estimated(0, 999 * MiB, false);
    assert.doesNotMatch(written.at(-1) ?? '', /999/);
    fs.estimated(1, 4 * MiB, false);
    clock = 1000;
    fs.sent(1 * MiB);
    assert.match(written.at(-1) ?? '', /tank\/a 2\/2: 1\.0 MiB of 4\.0 MiB \(25%\) @ 1\.0 MiB\/s, 0:03 left/);
    display.stop();
    assert.equal(written.at(-1), '\r\x1b[K', 'the line is cleared at the end');
  });
});
