/**
 * `zferry configcheck` as a user runs it: the real CLI on a good file (exit 0, "FILE: ok
 * (N jobs)") and on a broken one (exit 2, every problem on stderr, one per line).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runZferry } from '../helpers/cli.js';

async function withConfig(text: string, run: (file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'zferry-configcheck-'));
  try {
    const file = path.join(dir, 'zferry.yml');
    await writeFile(file, text);
    await run(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a valid configuration: exit 0 and FILE: ok (N jobs) on stdout', async () => {
  const text = [
    'jobs:',
    '  - name: backups',
    '    type: sink',
    '    serve: {type: local, listener_name: backups}',
    '    root_fs: backup',
    '  - name: laptop',
    '    type: push',
    '    connect: {type: local, listener_name: backups, client_identity: laptop}',
    '    filesystems: {"tank<": true}',
    '    interval: 10m',
    '',
  ].join('\n');
  await withConfig(text, async (file) => {
    const result = await runZferry(['configcheck', '--config', file]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, `${file}: ok (2 jobs)`);
    assert.equal(result.stderr, '');
  });
});

test('a broken configuration: exit 2 and every problem on stderr, one per line, not only the first', async () => {
  const text = [
    'jobs:',
    '  - name: backups',
    '    type: sink',
    '    serve: {type: local, listener_name: backups}',
    '  - name: laptop',
    '    type: push',
    '    connect: {type: local, listener_name: backupz, client_identity: laptop}',
    '    filesytems: {"tank<": true}',
    '    interval: 10 minutes',
    '',
  ].join('\n');
  await withConfig(text, async (file) => {
    const result = await runZferry(['configcheck', '--config', file]);
    assert.equal(result.exitCode, 2);
    assert.equal(result.stdout, '');
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      `zferry: [CONFIG] ${file}: 4 problems`,
      `${file}:2:5: jobs[0].root_fs: missing 'root_fs' (a sink needs the dataset it receives into)`,
      `${file}:7:43: jobs[1].connect.listener_name: unknown listener 'backupz': no sink job in this file serves it (did you mean 'backups'?)`,
      `${file}:8:5: jobs[1].filesytems: unknown key 'filesytems' (did you mean 'filesystems'?)`,
      `${file}:9:15: jobs[1].interval: invalid duration "10 minutes": cannot read it; write it like 30s, 10m, 1h30m or 1d, or manual`,
    ]);
  });
});

test('a missing configuration file: exit 2, naming the file', async () => {
  const result = await runZferry(['configcheck', '--config', '/nonexistent/zferry.yml']);
  assert.equal(result.exitCode, 2);
  assert.deepEqual(result.stderr.trimEnd().split('\n'), [
    'zferry: [CONFIG] /nonexistent/zferry.yml: 1 problem',
    '/nonexistent/zferry.yml: cannot read the configuration file: no such file',
  ]);
});

test('what the daemon would refuse at start fails configcheck too: a keep rule that does not read', async () => {
  const text = [
    'jobs:',
    '  - name: hourly',
    '    type: snap',
    '    filesystems: {"tank<": true}',
    '    snapshotting: {type: periodic, prefix: zf_, interval: 1h}',
    '    pruning:',
    '      keep:',
    '        - {type: grid, grid: "24x1h | banana"}',
    '',
  ].join('\n');
  await withConfig(text, async (file) => {
    const result = await runZferry(['configcheck', '--config', file]);
    assert.equal(result.exitCode, 2, result.stdout);
    assert.match(result.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:5: jobs\\[0\\]: pruning\\.keep\\[0\\].*banana`));
  });
});
