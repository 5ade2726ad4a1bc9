/** The human view of a job with an rpo: how many filesystems are late, and each late one in capitals with its age. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStatus } from '../../cmd/status-view.js';
import type { JobStatusView } from '../../daemon/status-types.js';
import { SAMPLE_NOW, sampleStatus } from '../fixtures/control-status.js';

const base = { state: 'done', stepsDone: 0, stepsTotal: 0, bytes: 0, rate: 0 };

test('a job with an rpo: the late count, and LATE with the rpo and the newest age per late filesystem', () => {
  const job: JobStatusView = {
    name: 'laptop',
    type: 'push',
    state: 'idle',
    schedule: 'every 10m',
    skippedTicks: 0,
    rpo: '2h',
    late: 2,
    filesystems: [
      { ...base, source: 'tank/a', target: 'backup/a', late: true, lastReplicated: { snapshot: 's1', at: '2025-03-01T09:00:00Z', ageSeconds: 3 * 3600 } },
      { ...base, source: 'tank/b', target: 'backup/b', late: false, lastReplicated: { snapshot: 's9', at: '2025-03-01T11:30:00Z', ageSeconds: 1800 } },
      { ...base, source: 'tank/c', target: 'backup/c', state: 'failed', late: true },
    ],
  };
  delete job.nextRunAt;
  assert.deepEqual(renderStatus({ ...sampleStatus(), jobs: [job] }, { now: SAMPLE_NOW }).slice(2), [
    'laptop  push  idle',
    '  schedule    every 10m',
    '  rpo         2h; 2 filesystems LATE',
    '  tank/a → backup/a  done',
    '    last replicated s1, 3h old',
    '    LATE (rpo 2h, newest replicated 3h old)',
    '  tank/b → backup/b  done',
    '    last replicated s9, 30m old',
    '  tank/c → backup/c  failed',
    '    LATE (rpo 2h, nothing replicated yet)',
  ]);
  assert.ok(
    renderStatus({ ...sampleStatus(), jobs: [{ ...job, late: 0, filesystems: [] }] }, { now: SAMPLE_NOW }).includes('  rpo         2h; no filesystem late'),
  );
});
