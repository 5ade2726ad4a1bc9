/**
 * Push and pull jobs over tcp and tls: planned without knowing the other daemon's root_fs,
 * their runs resolved from what its `session` answers (pure: no sockets, no zfs).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PullJob, PushJob, TcpConnect, TlsConnect } from '../../../config/types.js';
import { planReplication, resolveServedPlan, SERVED_ROOT } from '../../../daemon/job-plan.js';
import { pullFromSource, pushToSink, rules } from '../../helpers/daemon-config.js';

const tcp: TcpConnect = { type: 'tcp', address: 'backup:8888', host: 'backup', port: 8888, dialTimeoutMs: 5000 };
const tls: TlsConnect = {
  type: 'tls',
  address: 'backup:8889',
  host: 'backup',
  port: 8889,
  ca: '/etc/zferry/ca.crt',
  cert: '/etc/zferry/laptop.crt',
  key: '/etc/zferry/laptop.key',
  serverCn: 'backup',
  dialTimeoutMs: 5000,
  handshakeTimeoutMs: 7000,
};

function push(overrides: Partial<PushJob> = {}): PushJob {
  return pushToSink('laptop', { 'tank/home<': true, 'tank/db': true }, 'unused', 'unused', { connect: tcp, ...overrides });
}

function pull(overrides: Partial<PullJob> = {}): PullJob {
  return pullFromSource('from-db', 'unused', 'backup/db', { connect: tls, ...overrides });
}

const runs = (plan: { runs: Array<{ source: string; target: string; recursive: boolean }> }) => plan.runs.map((r) => [r.source, r.target, r.recursive]);

describe('a push over tcp or tls', () => {
  test('is planned below the served root, then lands below the root the sink names in its session', () => {
    const job = push();
    const plan = planReplication(job, new Map());
    assert.equal(plan.session, 'receiver');
    assert.deepEqual(plan.receiver, { kind: 'tcp', host: 'backup', port: 8888, dataset: SERVED_ROOT, dialTimeoutMs: 5000 });
    const resolved = resolveServedPlan(job, plan, { identity: 'laptop', roots: ['pool/sink/laptop'] });
    assert.equal(resolved.session, undefined);
    assert.deepEqual(runs(resolved), [
      ['tank/db', 'pool/sink/laptop/tank/db', false],
      ['tank/home', 'pool/sink/laptop/tank/home', true],
    ]);
    assert.equal((resolved.receiver as { dataset: string }).dataset, 'pool/sink/laptop');
  });

  test('with its own path_mapping one_to_one, its single tree lands at the served root itself', () => {
    const job = push({ filesystems: rules({ 'tank/home<': true }), pathMapping: 'one_to_one', connect: tls });
    const plan = resolveServedPlan(job, planReplication(job, new Map()), { identity: 'laptop', roots: ['pool/sink/laptop'] });
    assert.deepEqual(runs(plan), [['tank/home', 'pool/sink/laptop', true]]);
    assert.equal(plan.receiver.kind, 'tls');
    assert.equal((plan.receiver as { serverName: string }).serverName, 'backup');
  });

  test('refuses a side that serves no root or several (a source): nothing would say where to land', () => {
    const job = push();
    const plan = planReplication(job, new Map());
    assert.throws(() => resolveServedPlan(job, plan, { roots: [] }), /the sink serves no root: a push needs exactly one/);
    assert.throws(() => resolveServedPlan(job, plan, { identity: 'laptop', roots: ['a/x', 'a/y'] }), /serves 2 roots \(a\/x, a\/y\) to identity 'laptop'/);
  });
});

describe('a pull over tcp or tls', () => {
  test('without a filter of its own, pulls every root the source serves', () => {
    const job = pull();
    const plan = planReplication(job, new Map());
    assert.equal(plan.session, 'sender');
    assert.deepEqual(plan.runs, []);
    const resolved = resolveServedPlan(job, plan, { identity: 'from-db', roots: ['tank/db', 'tank/logs'] });
    assert.deepEqual(runs(resolved), [
      ['tank/db', 'backup/db/tank/db', true],
      ['tank/logs', 'backup/db/tank/logs', true],
    ]);
    assert.equal((resolved.sender as { dataset: string }).dataset, 'tank/db');
    assert.ok(resolved.runs[0]?.selects('tank/db/x'));
    assert.ok(!resolved.runs[0]?.selects('tank/other'));
  });

  test('with a filter, pulls only what both select: its roots inside served ones, served roots inside its own', () => {
    const job = pull({ filesystems: rules({ 'tank/db/main<': true, 'tank/db/main/tmp': false, 'tank<': false, 'tank/logs<': true, 'other<': true }) });
    const resolved = resolveServedPlan(job, planReplication(job, new Map()), { roots: ['tank/db', 'tank/logs/app'] });
    assert.deepEqual(
      runs(resolved).map(([source]) => source),
      ['tank/db/main', 'tank/logs/app'],
    );
    const selects = resolved.runs[0]?.selects ?? (() => true);
    assert.ok(selects('tank/db/main/x'));
    assert.ok(!selects('tank/db/main/tmp'));
    assert.ok(!selects('other/x'), 'not served');
  });

  test('fails clearly when the source serves nothing the job selects', () => {
    const job = pull({ filesystems: rules({ 'other<': true }) });
    assert.throws(
      () => resolveServedPlan(job, planReplication(job, new Map()), { identity: 'from-db', roots: ['tank/db'] }),
      /the source serves nothing this job selects to identity 'from-db' \(it serves tank\/db\)/,
    );
  });
});
