/**
 * Where a job's filesystems go (pure): both endpoints and one run per filter root, per job
 * type, connect and path_mapping; what cannot be planned is named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listenersOf, planReplication } from '../../daemon/job-plan.js';
import type { JobConfig, PullJob, PushJob } from '../../config/types.js';
import { pullFromSource, pushToSink, rules, sink, source } from '../helpers/daemon-config.js';

function plan(job: PushJob | PullJob, others: JobConfig[]) {
  const planned = planReplication(job, listenersOf([...others, job]));
  return { ...planned, runs: planned.runs.map(({ source: from, target, recursive }) => ({ from, target, recursive })) };
}

test('a push to a nested sink: each filter root below root_fs/<client>, the sink confined there', () => {
  const planned = plan(pushToSink('p', { 'tank/a<': true, 'tank/b': true, 'tank/a/tmp': false }, 'l', 'laptop'), [sink('s', 'l', 'backup/in')]);
  assert.deepEqual(planned.runs, [
    { from: 'tank/a', target: 'backup/in/laptop/tank/a', recursive: true },
    { from: 'tank/b', target: 'backup/in/laptop/tank/b', recursive: false },
  ]);
  assert.deepEqual(planned.receiver, { kind: 'local', dataset: 'backup/in/laptop', roots: ['backup/in/laptop'] });
  assert.deepEqual(planned.sinkRoot, { sink: 's', rootFs: 'backup/in' });
  assert.equal(planned.sender.kind, 'local');
});

test("a one_to_one sink: the client's single tree at root_fs itself; two trees are refused", () => {
  const flat = sink('s', 'l', 'backup/mirror', { pathMapping: 'one_to_one' });
  assert.deepEqual(plan(pushToSink('p', { 'tank/a<': true }, 'l', 'c'), [flat]).runs, [{ from: 'tank/a', target: 'backup/mirror', recursive: true }]);
  assert.throws(
    () => plan(pushToSink('p', { 'tank/a<': true, 'tank/b<': true }, 'l', 'c'), [flat]),
    /one_to_one maps a single filesystem tree onto backup\/mirror; the filter selects 2/,
  );
});

test('a push over ssh lands below its own root_fs, on the remote side', () => {
  const job = pushToSink('p', { 'tank/a<': true }, 'unused', 'c', {
    connect: { type: 'ssh', host: 'nas', user: 'root', port: 2222, options: ['Ciphers=aes128-gcm@openssh.com'] },
    rootFs: 'vault/laptop',
  });
  const planned = plan(job, []);
  assert.deepEqual(planned.runs, [{ from: 'tank/a', target: 'vault/laptop/tank/a', recursive: true }]);
  assert.deepEqual(planned.receiver, {
    kind: 'ssh',
    host: 'nas',
    user: 'root',
    port: 2222,
    options: ['Ciphers=aes128-gcm@openssh.com'],
    remoteCommand: ['zferry', 'serve', '--stdio'],
    dataset: 'vault/laptop',
  });
  // Without root_fs, the stdinserver sink behind the forced command says where they land (its session).
  const bound = plan({ ...job, rootFs: undefined } as unknown as PushJob, []);
  assert.equal(bound.session, 'receiver');
  assert.equal((bound.receiver as { dataset: string }).dataset, '<served root>');
});

test("a pull from a local source: the source's roots confine the sender; the pull's own filter narrows them", () => {
  const served = source('src', 'share', { 'tank/share<': true, 'tank/share/private': false });
  const planned = plan(pullFromSource('m', 'share', 'backup/share'), [served]);
  assert.deepEqual(planned.runs, [{ from: 'tank/share', target: 'backup/share/tank/share', recursive: true }]);
  assert.deepEqual(planned.sender, { kind: 'local', dataset: 'tank/share', roots: ['tank/share'] });
  const narrowed = planReplication(pullFromSource('m', 'share', 'backup/share', { filesystems: rules({ 'tank/share/docs<': true }) }), listenersOf([served]));
  assert.deepEqual(
    narrowed.runs.map((run) => run.source),
    ['tank/share/docs'],
  );
  const selects = narrowed.runs[0]?.selects;
  assert.equal(selects?.('tank/share/docs/a'), true);
  assert.equal(selects?.('tank/share/private'), false);
});

test('what cannot be planned is named: a missing listener, one of the wrong kind, a filter of every pool', () => {
  assert.throws(() => plan(pushToSink('p', { 'tank<': true }, 'nowhere', 'c'), []), /job 'p': no sink or source job serves listener_name 'nowhere'/);
  assert.throws(
    () => plan(pushToSink('p', { 'tank<': true }, 'share', 'c'), [source('src', 'share', { 'tank<': true })]),
    /listener 'share' is served by source job 'src'; a push needs a sink/,
  );
  assert.throws(() => plan(pushToSink('p', { '<': true }, 'l', 'c'), [sink('s', 'l', 'backup')]), /selects every pool/);
});
