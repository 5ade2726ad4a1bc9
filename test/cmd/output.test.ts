import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitCodeFor, JobFailedError, UsageError } from '../../cmd/errors.js';
import { formatBytes, formatDuration, humanSummary } from '../../cmd/output.js';
import type { JobSummary } from '../../replication/job/types.js';

test('bytes and durations read well', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
  assert.equal(formatDuration(999), '999 ms');
  assert.equal(formatDuration(1500), '1.5 s');
});

test('exit codes: usage 2, everything else 1', () => {
  assert.equal(exitCodeFor(new UsageError('bad')), 2);
  assert.equal(exitCodeFor(Object.assign(new Error('x'), { code: 'commander.unknownOption' })), 2);
  assert.equal(exitCodeFor(Object.assign(new Error('x'), { code: 'ZFS_INVALID_NAME' })), 2);
  assert.equal(exitCodeFor(new JobFailedError('some failed')), 1);
  assert.equal(exitCodeFor(new Error('boom')), 1);
  assert.equal(exitCodeFor('not even an error'), 1);
});

test('the human summary names failures, actions and warnings', () => {
  const summary: JobSummary = {
    source: 'tank/a',
    target: 'backup/a',
    dryRun: false,
    outcome: 'failed',
    filesystems: [
      {
        source: 'tank/a',
        target: 'backup/a',
        outcome: 'replicated',
        plan: [],
        steps: [{ kind: 'full', to: 'tank/a@s1', guid: '1', intermediates: false, bytes: 2048, durationMs: 5 }],
        bytes: 2048,
        durationMs: 5,
        actions: ['renamed diverged backup/a to backup/a-diverged-20261123T000000Z'],
      },
      {
        source: 'tank/a/b',
        target: 'backup/a/b',
        outcome: 'failed',
        plan: [],
        steps: [],
        bytes: 0,
        durationMs: 1,
        actions: [],
        error: { code: 'DIVERGED', message: 'backup/a/b has snapshots newer than @s1: @x' },
      },
    ],
    orphanedTargets: [],
    bytes: 2048,
    durationMs: 12,
    warnings: ['backup/a/old exists on the target but its source no longer exists (left as it is)'],
  };
  const text = humanSummary(summary).join('\n');
  assert.match(text, /tank\/a -> backup\/a: replicated \(1 step, 2\.0 KiB, 5 ms\)/);
  assert.match(text, /renamed diverged/);
  assert.match(text, /error \[DIVERGED\]: backup\/a\/b has snapshots newer/);
  assert.match(text, /warning: backup\/a\/old exists/);
  assert.match(text, /FAILED: 1 of 2 filesystems/);
  assert.doesNotMatch(text, /~/, 'counted sizes are exact');

  // Sizes from zfs recv -v (same-host direct pipe) are marked as approximate.
  const step = summary.filesystems[0]!.steps[0]!;
  step.bytesApproximate = true;
  const approximate = humanSummary(summary).join('\n');
  assert.match(approximate, /replicated \(1 step, ~2\.0 KiB, 5 ms\)/);
  assert.match(approximate, /full tank\/a@s1 {2}~2\.0 KiB/);
  assert.match(approximate, /FAILED: 1 of 2 filesystems: ~2\.0 KiB/);
});
