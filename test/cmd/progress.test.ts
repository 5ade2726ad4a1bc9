/** The progress line: bytes and rate always; share done and time left where a size is known. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgressDisplay, describeRunning, formatClock } from '../../cmd/progress.js';
import type { ProgressEvent } from '../../replication/job/types.js';

const MiB = 1024 * 1024;

describe('progress line', () => {
  test('without a size: bytes and rate, no share, no time left', () => {
    const text = describeRunning('tank/a', { step: '1/1', index: 0, bytes: 10 * MiB, startedMs: 0 }, 2000);
    assert.equal(text, 'tank/a 1/1: 10.0 MiB @ 5.0 MiB/s');
  });

  test('with zfs\'s own size: share done and time left', () => {
    const text = describeRunning('tank/a', { step: '2/3', index: 1, bytes: 25 * MiB, startedMs: 0, estimate: { bytes: 100 * MiB, approximate: false } }, 5000);
    assert.equal(text, 'tank/a 2/3: 25.0 MiB of 100.0 MiB (25%) @ 5.0 MiB/s, 0:15 left');
  });

  test('an approximate size is marked, and a stream that overruns it shows no time left', () => {
    const state = { step: '1/1', index: 0, bytes: 50 * MiB, startedMs: 0, estimate: { bytes: 200 * MiB, approximate: true } };
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
    const events: ProgressEvent[] = [
      { type: 'step-start', filesystem: 'tank/a', step: 'x', index: 0, total: 2 },
      { type: 'step-done', filesystem: 'tank/a', step: 'x', bytes: 1, durationMs: 1 },
      { type: 'step-start', filesystem: 'tank/a', step: 'y', index: 1, total: 2 },
      // The first step's answer arrives late: it must not label the second.
      { type: 'estimate', filesystem: 'tank/a', index: 0, bytes: 999 * MiB, approximate: false },
    ];
    for (const event of events) display.onProgress(event);
    assert.doesNotMatch(written.at(-1) ?? '', /999/);
    display.onProgress({ type: 'estimate', filesystem: 'tank/a', index: 1, bytes: 4 * MiB, approximate: false });
    clock = 1000;
    display.onProgress({ type: 'bytes', filesystem: 'tank/a', bytes: 1 * MiB });
    assert.match(written.at(-1) ?? '', /tank\/a 2\/2: 1\.0 MiB of 4\.0 MiB \(25%\) @ 1\.0 MiB\/s, 0:03 left/);
    display.stop();
    assert.equal(written.at(-1), '\r\x1b[K', 'the line is cleared at the end');
  });
});
