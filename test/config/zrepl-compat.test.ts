/**
 * zrepl's own sample configurations (test/fixtures/config/zrepl/, written after zrepl's docs):
 * accepted as they are, or answered with exactly the keys zferry does not support, each once,
 * with its position, and nothing that merely follows from them (a tls serve's certificates).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, formatProblem } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import { DEFAULT_STDINSERVER_SOCKDIR, type Config, type JobConfig } from '../../config/types.js';
import { repositoryRoot } from '../helpers/rpc-wire.js';

const FIXTURES = path.join(repositoryRoot(), 'test', 'fixtures', 'config', 'zrepl');

async function problemsOf(name: string): Promise<string[]> {
  const file = path.join(FIXTURES, name);
  const error = await loadConfig(file).then(
    () => assert.fail(`${name} was accepted`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ConfigError, String(error));
  return error.problems.map((problem) => formatProblem(problem).slice(file.length + 1));
}

test("zrepl's push over tcp: encrypted send, syslog outlet and outlet time are named (the tcp connect is taken)", async () => {
  assert.deepEqual(await problemsOf('push-tcp.yml'), [
    "7:7: global.logging[0].time: unsupported: zrepl's global.logging[].time is not supported by zferry (zferry always logs the time)",
    "8:13: global.logging[1].type: unsupported: zrepl's logging outlet type 'syslog' is not supported by zferry (log to stdout, which zferry writes to stderr for journald, or to a file)",
    "24:5: jobs[0].send.encrypted: unsupported: zrepl's send.encrypted is not supported by zferry (use raw: true to send encrypted datasets as they are)",
  ]);
});

test("zrepl's sink over tls: the placeholder and both listen_freebind are named (the tls serve is taken)", async () => {
  assert.deepEqual(await problemsOf('sink-tls.yml'), [
    "6:7: global.monitoring[0].listen_freebind: unsupported: zrepl's global.monitoring[].listen_freebind is not supported by zferry (zferry has no equivalent)",
    "14:5: jobs[0].serve.listen_freebind: unsupported: zrepl's serve.listen_freebind is not supported by zferry (zferry has no equivalent)",
    "21:5: jobs[0].recv.placeholder: unsupported: zrepl's recv.placeholder is not supported by zferry (zferry creates missing parents on the target itself)",
  ]);
});

test("zrepl's pull over ssh+stdinserver: replication.protection is named; the connect and concurrency {steps} are taken", async () => {
  assert.deepEqual(await problemsOf('pull-ssh-stdinserver.yml'), [
    "28:5: jobs[0].replication.protection: unsupported: zrepl's replication.protection is not supported by zferry (zferry always protects the incremental base: with holds, or with a property where holds are missing)",
  ]);
});

const MiB = 1024 * 1024;

function jobOf<T extends JobConfig['type']>(config: Config, type: T): Extract<JobConfig, { type: T }> {
  const job = config.jobs.find((each): each is Extract<JobConfig, { type: T }> => each.type === type);
  assert.ok(job !== undefined, `no ${type} job`);
  return job;
}

test("zrepl's source behind stdinserver is accepted as it is: global.serve's sockdir, the identities, the send bandwidth limit", async () => {
  const config = await loadConfig(path.join(FIXTURES, 'source-stdinserver.yml'));
  assert.deepEqual(config.global.serve, { stdinserver: { sockdir: '/var/run/zrepl/stdinserver' } });
  const source = jobOf(config, 'source');
  assert.deepEqual(source.serve, { type: 'stdinserver', clientIdentities: ['backup-srv.example.com'] });
  // 23.5 MiB per second; the bucket holds a quarter second of it.
  assert.deepEqual(source.bandwidthLimit, { maxBytesPerSecond: Math.floor(23.5 * MiB), bucketCapacityBytes: Math.floor((23.5 * MiB) / 4) });
  assert.equal(source.snapshotting.type === 'periodic' ? source.snapshotting.hooks?.length : 0, 1);
});

test("zrepl's push to a tls sink is accepted as it is: the tls connect with its timeouts, the send bandwidth limit", async () => {
  const config = await loadConfig(path.join(FIXTURES, 'push-tls.yml'));
  const push = jobOf(config, 'push');
  assert.deepEqual(push.connect, {
    type: 'tls',
    address: 'backups.example.com:8888',
    host: 'backups.example.com',
    port: 8888,
    ca: '/etc/zrepl/backups.crt',
    cert: '/etc/zrepl/prod.crt',
    key: '/etc/zrepl/prod.key',
    serverCn: 'backups',
    dialTimeoutMs: 5000,
    handshakeTimeoutMs: 10_000,
  });
  assert.equal('rootFs' in push, false);
  assert.deepEqual(push.replication.bandwidthLimit, { send: { maxBytesPerSecond: 50 * MiB, bucketCapacityBytes: 12.5 * MiB } });
});

test("the backup server of zrepl's tls sample is accepted as it is: the tls serve, the recv limit, prometheus on [::1]", async () => {
  const config = await loadConfig(path.join(FIXTURES, 'sink-tls-backups.yml'));
  assert.deepEqual(config.global.monitoring, [{ type: 'prometheus', listen: '[::1]:9811', host: '::1', port: 9811 }]);
  assert.deepEqual(config.global.serve, { stdinserver: { sockdir: DEFAULT_STDINSERVER_SOCKDIR } });
  const sink = jobOf(config, 'sink');
  assert.deepEqual(sink.serve, {
    type: 'tls',
    listen: ':8888',
    host: '',
    port: 8888,
    ca: '/etc/zrepl/prod.crt',
    cert: '/etc/zrepl/backups.crt',
    key: '/etc/zrepl/backups.key',
    clientCns: ['prod'],
    handshakeTimeoutMs: 10_000,
  });
  assert.deepEqual(sink.bandwidthLimit, { maxBytesPerSecond: 100 * MiB, bucketCapacityBytes: 4 * MiB });
});

test("zrepl's pull from a tcp source is accepted as it is on both sides: clients by address and range, max -1 is no limit", async () => {
  const pull = jobOf(await loadConfig(path.join(FIXTURES, 'pull-tcp.yml')), 'pull');
  assert.deepEqual(pull.connect, { type: 'tcp', address: 'prod.example.com:8888', host: 'prod.example.com', port: 8888, dialTimeoutMs: 10_000 });
  assert.deepEqual(pull.replication.bandwidthLimit, {});
  const file = path.join(FIXTURES, 'source-tcp.yml');
  const source = jobOf(await loadConfig(file), 'source');
  const at = (line: number, column: number) => ({ file, line, column });
  assert.deepEqual(source.serve, {
    type: 'tcp',
    listen: ':8888',
    host: '',
    port: 8888,
    clients: [
      { pattern: '192.168.122.123', address: '192.168.122.123', prefixLength: 32, family: 4, identity: 'backups', position: at(9, 7) },
      { pattern: '192.168.122.0/24', address: '192.168.122.0', prefixLength: 24, family: 4, identity: 'lab-*', position: at(10, 7) },
      { pattern: '2001:db8:1::/64', address: '2001:db8:1::', prefixLength: 64, family: 6, identity: 'v6-*', position: at(11, 7) },
    ],
  });
  assert.equal('bandwidthLimit' in source, false);
});

test("zrepl's pull over ssh+stdinserver is accepted as it is, as an ssh connect, without filesystems (the remote source's apply)", async () => {
  const pull = jobOf(await loadConfig(path.join(FIXTURES, 'pull-stdinserver.yml')), 'pull');
  assert.deepEqual(pull.connect, { type: 'ssh', host: 'prod.example.com', user: 'root', port: 22, identityFile: '/etc/zrepl/ssh/identity', options: [] });
  assert.deepEqual(pull.filesystems, []);
});

test("zrepl's local push → sink is accepted as it is", async () => {
  const config = await loadConfig(path.join(FIXTURES, 'local-push-sink.yml'));
  assert.deepEqual(
    config.jobs.map((job) => [job.type, job.name]),
    [
      ['sink', 'local_sink'],
      ['push', 'backup_system'],
    ],
  );
  const push = config.jobs[1];
  assert.equal(push?.type, 'push');
  if (push?.type !== 'push') return;
  assert.deepEqual(push.connect, { type: 'local', listenerName: 'localsink', clientIdentity: 'local_backup' });
  // zrepl's push replicates after each snapshot: on the snapshotting's schedule.
  assert.deepEqual(push.schedule, { kind: 'interval', everyMs: 600_000 });
  assert.equal(push.pruning?.keepReceiver?.length, 1);
});

test("zrepl's snap job with '<': true (every filesystem) is accepted as it is", async () => {
  const config = await loadConfig(path.join(FIXTURES, 'snap.yml'));
  assert.deepEqual(config.global.monitoring, [{ type: 'prometheus', listen: ':9811', host: '', port: 9811 }]);
  assert.deepEqual(config.global.logging, [{ type: 'stdout', level: 'info', format: 'json' }]);
  const [snap] = config.jobs;
  assert.equal(snap?.type, 'snap');
  if (snap?.type !== 'snap') return;
  assert.deepEqual(
    snap.filesystems.map(({ path: dataset, subtree, include, pattern }) => ({ dataset, subtree, include, pattern })),
    [{ dataset: '', subtree: true, include: true, pattern: '<' }],
  );
  assert.deepEqual(snap.snapshotting, { type: 'periodic', prefix: 'zrepl_snapjob_', intervalMs: 120_000, timestampFormat: 'dense' });
});
