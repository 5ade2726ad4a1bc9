/**
 * Hooks in the file: zrepl's `snapshotting.hooks` and zferry's job-level replication hooks parse
 * to the typed hooks the daemon runs, with their defaults (timeout 30 s, not fatal, both hook
 * types of their place) and their places in the file. Broken hook configs are in
 * broken-configs.test.ts (hook-values.yml).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/load.js';
import type { HookConfig } from '../../config/types.js';

const FILE = '/etc/zferry/zferry.yml';
const at = (line: number, column: number) => ({ file: FILE, line, column });

const YAML = [
  'jobs:', // 1
  '  - name: laptop',
  '    type: push',
  '    connect: {type: local, listener_name: backups, client_identity: laptop}',
  '    filesystems: {"tank/home<": true}', // 5
  '    snapshotting:',
  '      type: periodic',
  '      prefix: zferry_',
  '      interval: 10m',
  '      hooks:', // 10
  '        - type: command',
  '          path: /usr/local/bin/quiesce',
  '          args: [--db, main]',
  '          timeout: 1m',
  '          err_is_fatal: true', // 15
  '          filesystems: {"tank/home/db": true}',
  '        - type: command',
  '          path: /usr/local/bin/log-snapshot',
  '          when: post_snapshot',
  '    hooks:', // 20
  '      - type: command',
  '        path: /usr/local/bin/notify',
  '        when: [post_replication]',
  '      - type: command',
  '        path: /usr/local/bin/both', // 25
  '  - name: backups',
  '    type: sink',
  '    serve: {type: local, listener_name: backups}',
  '    root_fs: backup/clients',
  '',
].join('\n');

test('snapshot hooks and replication hooks, with their defaults and places', () => {
  const config = parseConfig(YAML, FILE);
  const job = config.jobs[0];
  assert.equal(job?.type, 'push');
  if (job?.type !== 'push' || job.snapshotting.type !== 'periodic') throw new Error('unreachable');
  const snapshotHooks: HookConfig[] = [
    {
      type: 'command',
      path: '/usr/local/bin/quiesce',
      args: ['--db', 'main'],
      timeoutMs: 60_000,
      errIsFatal: true,
      filesystems: [{ path: 'tank/home/db', subtree: false, include: true, pattern: 'tank/home/db', position: at(16, 25) }],
      when: ['pre_snapshot', 'post_snapshot'],
      position: at(11, 11),
    },
    { type: 'command', path: '/usr/local/bin/log-snapshot', args: [], timeoutMs: 30_000, errIsFatal: false, when: ['post_snapshot'], position: at(17, 11) },
  ];
  assert.deepEqual(job.snapshotting.hooks, snapshotHooks);
  assert.deepEqual(job.hooks, [
    { type: 'command', path: '/usr/local/bin/notify', args: [], timeoutMs: 30_000, errIsFatal: false, when: ['post_replication'], position: at(21, 9) },
    {
      type: 'command',
      path: '/usr/local/bin/both',
      args: [],
      timeoutMs: 30_000,
      errIsFatal: false,
      when: ['pre_replication', 'post_replication'],
      position: at(24, 9),
    },
  ]);
});

test('a job without hooks has no hooks key (the daemon runs none)', () => {
  const lines = YAML.split('\n');
  // Without the snapshotting hooks (lines 10-19) and the job's hooks (lines 20-25).
  const config = parseConfig([...lines.slice(0, 9), ...lines.slice(25)].join('\n'), FILE);
  const job = config.jobs[0];
  if (job?.type !== 'push' || job.snapshotting.type !== 'periodic') throw new Error('unreachable');
  assert.equal('hooks' in job, false);
  assert.equal('hooks' in job.snapshotting, false);
});
