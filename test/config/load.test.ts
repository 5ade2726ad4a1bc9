/**
 * Valid configurations, one per job type, parse to exactly the typed objects the daemon gets
 * (config/types.ts), with every default filled in; and how a file that cannot be read fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../config/errors.js';
import { loadConfig, parseConfig } from '../../config/load.js';
import type { Config, ReplicationPolicy } from '../../config/types.js';

const FILE = '/etc/zferry/zferry.yml';

function at(line: number, column: number) {
  return { file: FILE, line, column };
}

const DEFAULT_GLOBAL: Config['global'] = {
  logging: [{ type: 'stdout', level: 'info', format: 'auto' }],
  monitoring: [],
  control: { sockpath: '/run/zferry/control' },
  serve: { stdinserver: { sockdir: '/run/zferry/stdinserver' } },
  stateDir: '/var/lib/zferry',
};

const DEFAULT_POLICY: ReplicationPolicy = {
  send: { raw: false, compressed: false, largeBlocks: false, embeddedData: false },
  initialReplication: 'most_recent',
  onDiverged: 'fail',
  batch: false,
  snapshots: { include: [], exclude: [] },
  concurrency: 4,
  bandwidthLimit: {},
};

test('push → sink over local: the smallest config, every default filled in', () => {
  const config = parseConfig(
    [
      'jobs:',
      '  - name: backups',
      '    type: sink',
      '    serve: {type: local, listener_name: backups}',
      '    root_fs: backup',
      '  - name: laptop',
      '    type: push',
      '    connect: {type: local, listener_name: backups, client_identity: laptop}',
      '    filesystems:',
      '      "tank/home<": true',
      '      "tank/home/tmp": false',
      '    interval: 10m',
      '',
    ].join('\n'),
    FILE,
  );
  assert.deepEqual(config, {
    file: FILE,
    global: DEFAULT_GLOBAL,
    jobs: [
      {
        name: 'backups',
        position: at(2, 5),
        renamedFrom: [],
        type: 'sink',
        serve: { type: 'local', listenerName: 'backups' },
        rootFs: 'backup',
        pathMapping: 'nested',
      },
      {
        name: 'laptop',
        position: at(6, 5),
        renamedFrom: [],
        type: 'push',
        connect: { type: 'local', listenerName: 'backups', clientIdentity: 'laptop' },
        filesystems: [
          { path: 'tank/home', subtree: true, include: true, pattern: 'tank/home<', position: at(10, 7) },
          { path: 'tank/home/tmp', subtree: false, include: false, pattern: 'tank/home/tmp', position: at(11, 7) },
        ],
        pathMapping: 'nested',
        schedule: { kind: 'interval', everyMs: 600_000 },
        snapshotting: { type: 'manual' },
        replication: DEFAULT_POLICY,
      },
    ],
  } satisfies Config);
});

test('pull over ssh from zferry serve --stdio: cron in a time zone, 1:1 mapping, every policy key set', () => {
  const config = parseConfig(
    [
      'global:',
      '  logging:',
      '    - {type: stdout, level: debug, format: human}',
      '    - {type: file, path: /var/log/zferry.log}',
      '  monitoring: [{type: prometheus, listen: "127.0.0.1:9811"}]',
      '  control: {sockpath: /run/zf/control}',
      '  state_dir: /srv/zferry',
      'jobs:',
      '  - name: from-nas',
      '    type: pull',
      '    renamed_from: nas-pull',
      '    connect:',
      '      type: ssh',
      '      host: nas.example.org',
      '      user: backup',
      '      port: 2222',
      '      identity_file: /root/.ssh/zferry',
      '      options: [Ciphers=aes128-gcm@openssh.com, ConnectTimeout=10]',
      '      remote_command: [node, /opt/zferry/zferry.js, serve, --stdio, --root, tank/data]',
      '    root_fs: backup/nas',
      '    path_mapping: one_to_one',
      '    filesystems: {"tank/data<": true}',
      '    cron: "0 3 * * *"',
      '    time_zone: Europe/Berlin',
      '    pruning:',
      '      keep_receiver: [{type: grid, grid: "24x1h | 30x1d", regex: "^zferry_"}]',
      '    send: {raw: true, compressed: true, large_blocks: true, embedded_data: true}',
      '    recv: {}',
      '    conflict_resolution: {initial_replication: all}',
      '    replication: {concurrency: 8}',
      '    on_diverged: rename',
      '    batch: true',
      '    snapshots: {include: ["zferry_*"], exclude: ["*_tmp"]}',
      '',
    ].join('\n'),
    FILE,
  );
  assert.deepEqual(config, {
    file: FILE,
    global: {
      logging: [
        { type: 'stdout', level: 'debug', format: 'human' },
        { type: 'file', level: 'info', format: 'json', path: '/var/log/zferry.log' },
      ],
      monitoring: [{ type: 'prometheus', listen: '127.0.0.1:9811', host: '127.0.0.1', port: 9811 }],
      control: { sockpath: '/run/zf/control' },
      serve: { stdinserver: { sockdir: '/run/zferry/stdinserver' } },
      stateDir: '/srv/zferry',
    },
    jobs: [
      {
        name: 'from-nas',
        position: at(9, 5),
        renamedFrom: ['nas-pull'],
        type: 'pull',
        connect: {
          type: 'ssh',
          host: 'nas.example.org',
          user: 'backup',
          port: 2222,
          identityFile: '/root/.ssh/zferry',
          options: ['Ciphers=aes128-gcm@openssh.com', 'ConnectTimeout=10'],
          remoteCommand: ['node', '/opt/zferry/zferry.js', 'serve', '--stdio', '--root', 'tank/data'],
        },
        rootFs: 'backup/nas',
        filesystems: [{ path: 'tank/data', subtree: true, include: true, pattern: 'tank/data<', position: at(22, 19) }],
        pathMapping: 'one_to_one',
        schedule: { kind: 'cron', expression: '0 3 * * *', timeZone: 'Europe/Berlin' },
        pruning: { keepReceiver: [{ type: 'grid', grid: '24x1h | 30x1d', regex: '^zferry_' }] },
        replication: {
          send: { raw: true, compressed: true, largeBlocks: true, embeddedData: true },
          initialReplication: 'all',
          onDiverged: 'rename',
          batch: true,
          snapshots: { include: ['zferry_*'], exclude: ['*_tmp'] },
          concurrency: 8,
          bandwidthLimit: {},
        },
      },
    ],
  } satisfies Config);
});

test('source → pull over local, and a push over ssh whose schedule follows its cron snapshotting', () => {
  const config = parseConfig(
    [
      'jobs:',
      '  - name: share',
      '    type: source',
      '    serve: {type: local, listener_name: share}',
      '    filesystems: {"tank/share<": true}',
      '    snapshotting: {type: periodic, prefix: zf_, interval: 1h, timestamp_format: iso-8601}',
      '    send: {compressed: true}',
      '  - name: mirror',
      '    type: pull',
      '    connect: {type: local, listener_name: share, client_identity: mirror}',
      '    root_fs: backup/share',
      '    interval: manual',
      '  - name: offsite',
      '    type: push',
      '    connect: {type: ssh, host: offsite, remote_command: "node \'/opt/zferry app/zferry.js\' serve --stdio"}',
      '    root_fs: vault/laptop',
      '    filesystems: {"tank<": true}',
      '    snapshotting: {type: cron, prefix: off_, cron: "30 2 * * *", time_zone: UTC}',
      '    replication: {concurrency: {steps: 2, size_estimates: 4}}',
      '',
    ].join('\n'),
    FILE,
  );
  const [source, pull, push] = config.jobs;
  assert.deepEqual(source, {
    name: 'share',
    position: at(2, 5),
    renamedFrom: [],
    type: 'source',
    serve: { type: 'local', listenerName: 'share' },
    filesystems: [{ path: 'tank/share', subtree: true, include: true, pattern: 'tank/share<', position: at(5, 19) }],
    snapshotting: { type: 'periodic', prefix: 'zf_', intervalMs: 3_600_000, timestampFormat: 'iso-8601' },
    send: { raw: false, compressed: true, largeBlocks: false, embeddedData: false },
  });
  assert.deepEqual(pull, {
    name: 'mirror',
    position: at(8, 5),
    renamedFrom: [],
    type: 'pull',
    connect: { type: 'local', listenerName: 'share', clientIdentity: 'mirror' },
    rootFs: 'backup/share',
    filesystems: [],
    pathMapping: 'nested',
    schedule: { kind: 'manual' },
    replication: DEFAULT_POLICY,
  });
  assert.equal(push?.type, 'push');
  if (push?.type !== 'push') return;
  assert.deepEqual(push.connect, { type: 'ssh', host: 'offsite', options: [], remoteCommand: ['node', '/opt/zferry app/zferry.js', 'serve', '--stdio'] });
  assert.equal(push.rootFs, 'vault/laptop');
  assert.deepEqual(push.snapshotting, { type: 'cron', prefix: 'off_', cron: '30 2 * * *', timeZone: 'UTC', timestampFormat: 'dense' });
  assert.deepEqual(push.schedule, { kind: 'cron', expression: '30 2 * * *', timeZone: 'UTC' });
  assert.equal(push.replication.concurrency, 2);
});

test('snap: snapshots on a cron schedule, pruned by its keep rules', () => {
  const config = parseConfig(
    [
      'jobs:',
      '  - name: snapper',
      '    type: snap',
      '    filesystems: {"<": true, "tmp<": false}',
      '    snapshotting: {type: cron, prefix: auto_, cron: "*/15 * * * *"}',
      '    pruning:',
      '      keep:',
      '        - {type: last_n, count: 4}',
      '        - {type: regex, regex: "^manual_"}',
      '',
    ].join('\n'),
    FILE,
  );
  assert.deepEqual(config.jobs, [
    {
      name: 'snapper',
      position: at(2, 5),
      renamedFrom: [],
      type: 'snap',
      filesystems: [
        { path: '', subtree: true, include: true, pattern: '<', position: at(4, 19) },
        { path: 'tmp', subtree: true, include: false, pattern: 'tmp<', position: at(4, 30) },
      ],
      snapshotting: { type: 'cron', prefix: 'auto_', cron: '*/15 * * * *', timestampFormat: 'dense' },
      pruning: {
        keep: [
          { type: 'last_n', count: 4 },
          { type: 'regex', regex: '^manual_' },
        ],
      },
    },
  ]);
});

test('an empty job list is a valid configuration; YAML anchors are followed', () => {
  assert.deepEqual(parseConfig('jobs: []\n', FILE), { file: FILE, global: DEFAULT_GLOBAL, jobs: [] });
  const jobs = parseConfig(
    [
      'jobs:',
      '  - {name: a, type: snap, filesystems: &home {"tank/home<": true}, snapshotting: &every10m {type: periodic, prefix: a_, interval: 10m}}',
      '  - {name: b, type: snap, filesystems: *home, snapshotting: *every10m}',
      '',
    ].join('\n'),
    FILE,
  ).jobs;
  assert.deepEqual(
    jobs.map((job) => (job.type === 'snap' ? [job.name, job.filesystems.map((rule) => rule.pattern), job.snapshotting.type] : [])),
    [
      ['a', ['tank/home<'], 'periodic'],
      ['b', ['tank/home<'], 'periodic'],
    ],
  );
});

test('a relative file name is kept in problems and resolved in Config.file', () => {
  const config = parseConfig('jobs: []\n', 'zferry.yml');
  assert.equal(config.file, path.resolve('zferry.yml'));
  assert.throws(
    () => parseConfig('jobs: 3\n', 'zferry.yml'),
    (error: unknown) => error instanceof ConfigError && error.problems[0]?.file === 'zferry.yml',
  );
});

test('a file that cannot be read is one problem naming the file', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'zferry-config-'));
  try {
    const missing = path.join(dir, 'missing.yml');
    await assert.rejects(loadConfig(missing), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems, [{ file: missing, line: 0, column: 0, path: '', message: 'cannot read the configuration file: no such file' }]);
      assert.equal(error.message, `${missing}: 1 problem\n${missing}: cannot read the configuration file: no such file`);
      return true;
    });
    await assert.rejects(
      loadConfig(dir),
      (error: unknown) => error instanceof ConfigError && error.problems[0]?.message === 'cannot read the configuration file: it is a directory',
    );
    const good = path.join(dir, 'good.yml');
    await writeFile(good, 'jobs: []\n');
    assert.equal((await loadConfig(good)).file, good);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('snapshotting timestamp_location: UTC is the default (left out), Local or an IANA zone kept, an unknown zone refused', () => {
  const snap = (location: string) =>
    parseConfig(
      [
        'jobs:',
        '  - name: s',
        '    type: snap',
        '    filesystems: {"tank<": true}',
        `    snapshotting: {type: periodic, prefix: a_, interval: 10m, timestamp_location: ${location}}`,
        '',
      ].join('\n'),
      FILE,
    ).jobs[0];
  const utc = snap('UTC');
  assert.deepEqual(utc?.type === 'snap' ? utc.snapshotting : undefined, { type: 'periodic', prefix: 'a_', intervalMs: 600_000, timestampFormat: 'dense' });
  for (const location of ['Local', 'Europe/Berlin']) {
    const job = snap(location);
    assert.equal(job?.type === 'snap' && job.snapshotting.type === 'periodic' ? job.snapshotting.timestampLocation : undefined, location);
  }
  assert.throws(
    () => snap('Mars/Olympus'),
    (error: unknown) => error instanceof ConfigError && /Mars\/Olympus/.test(error.message),
  );
});
