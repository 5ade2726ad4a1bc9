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

test("zrepl's push over tcp: the tcp connect, encrypted send, syslog outlet and outlet time are named", async () => {
  assert.deepEqual(await problemsOf('push-tcp.yml'), [
    "7:7: global.logging[0].time: unsupported: zrepl's global.logging[].time is not supported by zferry (zferry always logs the time)",
    "8:13: global.logging[1].type: unsupported: zrepl's logging outlet type 'syslog' is not supported by zferry (log to stdout, which zferry writes to stderr for journald, or to a file)",
    "19:11: jobs[0].connect.type: unsupported: zrepl's connect type 'tcp' is not supported by zferry (coming with serving; use type ssh)",
    "24:5: jobs[0].send.encrypted: unsupported: zrepl's send.encrypted is not supported by zferry (use raw: true to send encrypted datasets as they are)",
  ]);
});

test("zrepl's sink over tls: the tls serve (not its certificates), the placeholder and listen_freebind are named", async () => {
  assert.deepEqual(await problemsOf('sink-tls.yml'), [
    "6:7: global.monitoring[0].listen_freebind: unsupported: zrepl's global.monitoring[].listen_freebind is not supported by zferry (zferry has no equivalent)",
    "12:11: jobs[0].serve.type: unsupported: zrepl's serve type 'tls' is not supported by zferry (coming with serving; push and pull jobs of this daemon reach a sink or source with serve type local)",
    "20:5: jobs[0].recv.placeholder: unsupported: zrepl's recv.placeholder is not supported by zferry (zferry creates missing parents on the target itself)",
  ]);
});

test("zrepl's pull over ssh+stdinserver: the connect type and replication.protection are named; concurrency {steps} is taken", async () => {
  assert.deepEqual(await problemsOf('pull-ssh-stdinserver.yml'), [
    "6:11: jobs[0].connect.type: unsupported: zrepl's connect type 'ssh+stdinserver' is not supported by zferry (use type ssh: it runs zferry serve --stdio on the remote; the stdinserver forced command is coming with serving)",
    "28:5: jobs[0].replication.protection: unsupported: zrepl's replication.protection is not supported by zferry (zferry always protects the incremental base: with holds, or with a property where holds are missing)",
  ]);
});

test("zrepl's source behind stdinserver: global.serve, the serve type and the bandwidth limit are named; its command hook is taken", async () => {
  assert.deepEqual(await problemsOf('source-stdinserver.yml'), [
    "3:3: global.serve: unsupported: zrepl's global.serve is not supported by zferry (the stdinserver socket directory is coming with serving)",
    "10:11: jobs[0].serve.type: unsupported: zrepl's serve type 'stdinserver' is not supported by zferry (coming with serving; a remote pull over ssh runs zferry serve --stdio instead)",
    "26:5: jobs[0].send.bandwidth_limit: unsupported: zrepl's send.bandwidth_limit is not supported by zferry (bandwidth limits are coming with serving)",
  ]);
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
