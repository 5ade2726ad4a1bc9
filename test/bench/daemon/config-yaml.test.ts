/**
 * The configs the daemon benchmark writes are valid for config/ and say what the benchmark
 * means: push jobs to one local sink, the schedule asked for, no snapshotting, every snapshot
 * sent to an empty target (as `zferry push` does), and the sink path the benchmark checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../config/load.js';
import { daemonConfigYaml, sinkTargetOf, CLIENT_IDENTITY } from '../../../bench/daemon/config-yaml.js';

const paths = { stateDir: '/tmp/bench dir/state', sockpath: '/tmp/bench dir/run/control' };
const sink = { name: 'sink', rootFs: 'dst/sink' };

test('ten push jobs every minute, one dataset each, to one sink', () => {
  const pushes = Array.from({ length: 10 }, (_, i) => ({ name: `idle-${i}`, filesystems: { [`src/idle/d${i}`]: true }, interval: '1m' }));
  const config = parseConfig(daemonConfigYaml(paths, sink, pushes), '/tmp/zferry.yml');
  assert.equal(config.global.stateDir, paths.stateDir);
  assert.equal(config.global.control.sockpath, paths.sockpath);
  assert.deepEqual(
    config.jobs.map((job) => [job.name, job.type]),
    [['sink', 'sink'], ...pushes.map((push) => [push.name, 'push'])],
  );
  const first = config.jobs[0];
  assert.ok(first?.type === 'sink');
  assert.equal(first.rootFs, 'dst/sink');
  assert.deepEqual(first.serve, { type: 'local', listenerName: 'sink' });
  for (const [i, job] of config.jobs.slice(1).entries()) {
    assert.ok(job.type === 'push');
    assert.deepEqual(job.schedule, { kind: 'interval', everyMs: 60_000 });
    assert.deepEqual(job.connect, { type: 'local', listenerName: 'sink', clientIdentity: CLIENT_IDENTITY });
    assert.deepEqual(
      job.filesystems.map((rule) => [rule.path, rule.subtree, rule.include]),
      [[`src/idle/d${i}`, false, true]],
    );
    assert.deepEqual(job.snapshotting, { type: 'manual' });
    assert.equal(job.replication.initialReplication, 'all');
  }
});

test('a tree job every hour selects the subtree; the sink receives it below root_fs/<client>/', () => {
  const config = parseConfig(daemonConfigYaml(paths, sink, [{ name: 'tree', filesystems: { 'src/tree<': true }, interval: '1h' }]), '/tmp/zferry.yml');
  const job = config.jobs[1];
  assert.ok(job?.type === 'push');
  assert.deepEqual(job.schedule, { kind: 'interval', everyMs: 3_600_000 });
  assert.deepEqual(
    job.filesystems.map((rule) => [rule.path, rule.subtree, rule.include]),
    [['src/tree', true, true]],
  );
  assert.equal(job.pathMapping, 'nested');
  assert.equal(sinkTargetOf(sink, 'src/tree'), `dst/sink/${CLIENT_IDENTITY}/src/tree`);
});
