/**
 * The serving keys of #18 parse to the typed shapes the daemon codes against: rpo with its
 * on_late hooks (from `on_late` and from job hooks `when: on_late`), bandwidth limits with the
 * bucket default, tcp clients normalised, push over tcp/tls/ssh+stdinserver without root_fs,
 * listeners that must not collide. Refusals with their positions are in broken-configs.test.ts
 * (serve-*, connect-addresses, rpo-on-late, bandwidth-limit, listen-collision); zrepl's own
 * samples in zrepl-compat.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClientNetwork } from '../../config/address.js';
import { ConfigError, formatProblem } from '../../config/errors.js';
import { parseConfig } from '../../config/load.js';
import { parseSize } from '../../config/size.js';
import type { HookConfig, JobConfig } from '../../config/types.js';

const FILE = '/etc/zferry/zferry.yml';
const at = (line: number, column: number) => ({ file: FILE, line, column });
const KiB = 1024;
const MiB = 1024 * KiB;

function problemsOf(yaml: string): string[] {
  try {
    parseConfig(yaml, FILE);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map((problem) => formatProblem(problem).slice(FILE.length + 1));
  }
  return assert.fail('accepted');
}

const RPO_YAML = [
  'jobs:', // 1
  '  - name: laptop',
  '    type: push',
  '    connect: {type: tcp, address: "backups.example.com:8888"}',
  '    filesystems: {"tank/home<": true}', // 5
  '    rpo: 2h',
  '    on_late:',
  '      type: command',
  '      path: /usr/local/bin/page',
  '      args: [--team, storage]', // 10
  '    hooks:',
  '      - type: command',
  '        path: /usr/local/bin/notify',
  '      - type: command',
  '        path: /usr/local/bin/late-too', // 15
  '        timeout: 5s',
  '        when: [post_replication, on_late]',
  '  - name: prod',
  '    type: pull',
  '    connect: {type: tcp, address: "prod.example.com:8888"}', // 20
  '    root_fs: tank/prod',
  '    interval: 10m',
  '    rpo: 1d',
  '    on_late:',
  '      - {type: command, path: /usr/local/bin/a, timeout: 1m, err_is_fatal: true}', // 25
  '      - {type: command, path: /usr/local/bin/b, filesystems: {"tank/db": true}}',
].join('\n');

test('rpo and on_late: one hook or a list, plus the job hooks with when: on_late; on_late is never a default when', () => {
  const [push, pull] = parseConfig(RPO_YAML, FILE).jobs;
  assert.equal(push?.type, 'push');
  assert.equal(pull?.type, 'pull');
  if (push?.type !== 'push' || pull?.type !== 'pull') return;
  const notify: HookConfig = {
    type: 'command',
    path: '/usr/local/bin/notify',
    args: [],
    timeoutMs: 30_000,
    errIsFatal: false,
    when: ['pre_replication', 'post_replication'],
    position: at(12, 9),
  };
  const lateToo: HookConfig = {
    type: 'command',
    path: '/usr/local/bin/late-too',
    args: [],
    timeoutMs: 5000,
    errIsFatal: false,
    when: ['post_replication', 'on_late'],
    position: at(14, 9),
  };
  assert.deepEqual(push.hooks, [notify, lateToo]);
  assert.deepEqual(push.rpo, {
    maxAgeMs: 2 * 3_600_000,
    onLate: [
      {
        type: 'command',
        path: '/usr/local/bin/page',
        args: ['--team', 'storage'],
        timeoutMs: 30_000,
        errIsFatal: false,
        when: ['on_late'],
        position: at(8, 7),
      },
      { ...lateToo, when: ['on_late'] },
    ],
  });
  assert.deepEqual(pull.rpo, {
    maxAgeMs: 86_400_000,
    onLate: [
      { type: 'command', path: '/usr/local/bin/a', args: [], timeoutMs: 60_000, errIsFatal: true, when: ['on_late'], position: at(25, 9) },
      {
        type: 'command',
        path: '/usr/local/bin/b',
        args: [],
        timeoutMs: 30_000,
        errIsFatal: false,
        filesystems: [{ path: 'tank/db', subtree: false, include: true, pattern: 'tank/db', position: at(26, 63) }],
        when: ['on_late'],
        position: at(26, 9),
      },
    ],
  });
  assert.equal('hooks' in pull, false);
});

test('a job without rpo has no rpo key', () => {
  const lines = RPO_YAML.split('\n');
  // The push job without rpo, on_late and its on_late hook (lines 6-10, 14-17).
  const config = parseConfig([...lines.slice(0, 5), ...lines.slice(10, 13)].join('\n'), FILE);
  const [push] = config.jobs;
  assert.equal(push?.type === 'push' && 'rpo' in push, false);
});

const LIMITS_YAML = [
  'jobs:',
  '  - name: laptop',
  '    type: push',
  '    connect: {type: ssh+stdinserver, host: backups.example.com}',
  '    filesystems: {"tank/home<": true}',
  '    send: {bandwidth_limit: {max: "50 MiB", bucket_capacity: "1 MiB"}}',
  '    recv: {bandwidth_limit: {max: 1048576}}',
  '  - name: backups',
  '    type: sink',
  '    root_fs: tank/backups',
  '    serve: {type: stdinserver, client_identities: [laptop, "db1.example.com"]}',
  '    recv: {bandwidth_limit: {max: 2 MB}}',
  '  - name: share',
  '    type: source',
  '    filesystems: {"tank/share<": true}',
  '    serve: {type: local, listener_name: share}',
  '    send: {bandwidth_limit: {}}',
].join('\n');

test('bandwidth_limit: send and recv of push and pull, recv of a sink, send of a source; the bucket holds max/4, at least 128 KiB', () => {
  const [push, sink, source] = parseConfig(LIMITS_YAML, FILE).jobs as [JobConfig, JobConfig, JobConfig];
  assert.equal(push.type, 'push');
  if (push.type !== 'push' || sink.type !== 'sink' || source.type !== 'source') return;
  assert.deepEqual(push.replication.bandwidthLimit, {
    send: { maxBytesPerSecond: 50 * MiB, bucketCapacityBytes: MiB },
    recv: { maxBytesPerSecond: MiB, bucketCapacityBytes: 256 * KiB },
  });
  // 2 MB/s: a quarter second is 500 000 bytes.
  assert.deepEqual(sink.bandwidthLimit, { maxBytesPerSecond: 2_000_000, bucketCapacityBytes: 500_000 });
  assert.deepEqual(sink.serve, { type: 'stdinserver', clientIdentities: ['laptop', 'db1.example.com'] });
  // No max: no limit.
  assert.equal('bandwidthLimit' in source, false);
  // ssh+stdinserver is ssh; a push over it needs no root_fs (the remote sink decides).
  assert.deepEqual(push.connect, { type: 'ssh', host: 'backups.example.com', options: [] });
  assert.equal('rootFs' in push, false);
});

test('a small max still gets a 128 KiB bucket', () => {
  const yaml = LIMITS_YAML.replace('{max: 2 MB}', '{max: 10 KiB}');
  const sink = parseConfig(yaml, FILE).jobs[1];
  assert.deepEqual(sink?.type === 'sink' ? sink.bandwidthLimit : undefined, { maxBytesPerSecond: 10 * KiB, bucketCapacityBytes: 128 * KiB });
});

test('sizes: bytes, binary and decimal units, fractions; refused: negative, unknown unit, words', () => {
  assert.deepEqual(parseSize(4096), { bytes: 4096 });
  assert.deepEqual(parseSize('23.5 MiB'), { bytes: 24_641_536 });
  assert.deepEqual(parseSize('50MiB'), { bytes: 50 * MiB });
  assert.deepEqual(parseSize('1 GB'), { bytes: 1e9 });
  assert.deepEqual(parseSize('512 B'), { bytes: 512 });
  assert.deepEqual(parseSize('1000'), { bytes: 1000 });
  assert.ok('problem' in parseSize(-5));
  assert.ok('problem' in parseSize('5 Mbit'));
  assert.ok('problem' in parseSize('fast'));
});

test('client networks: host bits below the prefix are cleared (as zrepl does), IPv6 is written canonically', () => {
  assert.deepEqual(parseClientNetwork('198.51.100.7/24'), { address: '198.51.100.0', prefixLength: 24, family: 4 });
  assert.deepEqual(parseClientNetwork('192.0.2.10'), { address: '192.0.2.10', prefixLength: 32, family: 4 });
  assert.deepEqual(parseClientNetwork('10.1.2.3/0'), { address: '0.0.0.0', prefixLength: 0, family: 4 });
  assert.deepEqual(parseClientNetwork('2001:DB8:0:0:1::5/64'), { address: '2001:db8::', prefixLength: 64, family: 6 });
  assert.deepEqual(parseClientNetwork('2001:db8::ff00/120'), { address: '2001:db8::ff00', prefixLength: 120, family: 6 });
  assert.deepEqual(parseClientNetwork('2001:db8::1ff/119'), { address: '2001:db8::', prefixLength: 119, family: 6 });
  assert.deepEqual(parseClientNetwork('::ffff:192.0.2.1'), { address: '::ffff:c000:201', prefixLength: 128, family: 6 });
  for (const bad of ['192.0.2.1/', '192.0.2.1/08', '192.0.2.1/33', '2001:db8::/129', 'db1', '192.0.2', 'fe80::1%eth0', '192.0.2.0/24/8']) {
    assert.ok('problem' in parseClientNetwork(bad), bad);
  }
});

test('a local connect needs a local serve: a sink served over tcp is not a listener', () => {
  const yaml = [
    'jobs:',
    '  - name: backups',
    '    type: sink',
    '    root_fs: tank/backups',
    '    serve: {type: tcp, listen: ":8888", clients: {"192.0.2.10": db1}}',
    '  - name: laptop',
    '    type: push',
    '    connect: {type: local, listener_name: backups, client_identity: laptop}',
    '    filesystems: {"tank/home<": true}',
  ].join('\n');
  assert.deepEqual(problemsOf(yaml), ["8:43: jobs[1].connect.listener_name: unknown listener 'backups': no sink job in this file serves it"]);
});

test('listeners on different ports, or on different hosts of one port, do not collide', () => {
  const yaml = [
    'global:',
    '  monitoring: [{type: prometheus, listen: "127.0.0.1:9811"}]',
    'jobs:',
    '  - name: a',
    '    type: sink',
    '    root_fs: tank/a',
    '    serve: {type: tcp, listen: "192.0.2.1:9811", clients: {"192.0.2.10": db1}}',
    '  - name: b',
    '    type: sink',
    '    root_fs: tank/b',
    '    serve: {type: tcp, listen: ":8888", clients: {"192.0.2.10": db1, "2001:db8::10": db1}}',
  ].join('\n');
  const config = parseConfig(yaml, FILE);
  assert.deepEqual(
    config.jobs.map((job) => (job.type === 'sink' && job.serve.type === 'tcp' ? [job.serve.host, job.serve.port] : [])),
    [
      ['192.0.2.1', 9811],
      ['', 8888],
    ],
  );
});
