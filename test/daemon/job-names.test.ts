/** The record of job names against silent renames (zrepl#327), without a daemon. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { JobNameStore, fingerprintOf, rememberJobs, renameProblems } from '../../daemon/job-names.js';
import { listenersOf } from '../../daemon/job-plan.js';
import type { JobConfig } from '../../config/types.js';
import { pushToSink, sink } from '../helpers/daemon-config.js';

const sinkJob = sink('s', 'l', 'backup/in');
const jobsNamed = (name: string, renamedFrom: string[] = []): JobConfig[] => [sinkJob, pushToSink(name, { 'tank/a<': true }, 'l', 'laptop', { renamedFrom })];

test('the same replication under another name is refused, naming both and the way out', () => {
  const remembered = rememberJobs({}, jobsNamed('a'), listenersOf(jobsNamed('a')));
  assert.deepEqual(renameProblems(remembered, jobsNamed('a'), listenersOf(jobsNamed('a')), '/state/jobs.json'), []);
  const problems = renameProblems(remembered, jobsNamed('b'), listenersOf(jobsNamed('b')), '/state/jobs.json');
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.job, 'b');
  assert.match(problems[0]?.message ?? '', /^job 'b' replicates what job 'a' did; its holds and cursors are tagged 'a'\. Add `renamed_from: \[a\]` to job 'b'/);
  assert.match(problems[0]?.message ?? '', /remove 'a' from \/state\/jobs\.json/);
});

test('renamed_from accepts the rename, and the old name is no reason to refuse any more', () => {
  const remembered = rememberJobs({}, jobsNamed('a'), listenersOf(jobsNamed('a')));
  assert.deepEqual(renameProblems(remembered, jobsNamed('b', ['a']), listenersOf(jobsNamed('b')), 'f'), []);
  const after = rememberJobs(remembered, jobsNamed('b', ['a']), listenersOf(jobsNamed('b')));
  assert.equal(after['a']?.renamedTo, 'b');
  assert.deepEqual(
    renameProblems(after, jobsNamed('c'), listenersOf(jobsNamed('c')), 'f').map((p) => p.message.split(';')[0]),
    ["job 'c' replicates what job 'b' did"],
  );
});

test('a job replicating something else, a job kept under its name, or both names present are fine', () => {
  const remembered = rememberJobs({}, jobsNamed('a'), listenersOf(jobsNamed('a')));
  const other: JobConfig[] = [sinkJob, pushToSink('b', { 'tank/other<': true }, 'l', 'laptop')];
  assert.deepEqual(renameProblems(remembered, other, listenersOf(other), 'f'), []);
  const both: JobConfig[] = [...jobsNamed('a'), pushToSink('b', { 'tank/a<': true }, 'l', 'laptop')];
  assert.deepEqual(renameProblems(remembered, both, listenersOf(both), 'f'), []);
  assert.equal(fingerprintOf(sinkJob, listenersOf([sinkJob])), undefined, 'a sink holds nothing of its own');
});

test('the store: missing is empty, damaged is reported and empty, saved is read back', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-names-'));
  try {
    const store = new JobNameStore(path.join(dir, 'state'));
    const problems: string[] = [];
    assert.deepEqual(await store.load((p) => problems.push(p)), {});
    const remembered = rememberJobs({}, jobsNamed('a'), listenersOf(jobsNamed('a')));
    await store.save(remembered);
    assert.deepEqual(await store.load((p) => problems.push(p)), remembered);
    assert.equal((JSON.parse(await readFile(store.file, 'utf8')) as { version: number }).version, 1);
    await writeFile(store.file, '{not json');
    assert.deepEqual(await store.load((p) => problems.push(p)), {});
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /is not valid JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
