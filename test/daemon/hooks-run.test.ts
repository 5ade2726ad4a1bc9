/**
 * Hooks end to end: `zferry run` of a push job to a sink of the same config, on zfs-fuse
 * pools. A fatal pre_snapshot hook on one filesystem leaves that filesystem without the
 * snapshot (the others get theirs, the run says it failed); every hook sees its variables; a
 * post_replication hook sees `ok`, then `failed` with the reason once the target diverged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runZferry } from '../helpers/cli.js';
import { daemonDir, type DaemonDir, sinkAndPushJobs } from '../helpers/daemon-process.js';
import { createDataset, listAll, listSnapshots, snapshot, usePool } from '../helpers/zfs-pool.js';

async function names(filesystem: string): Promise<string[]> {
  return (await listSnapshots(filesystem)).map((s) => s.name);
}

/** The lines the recording hooks appended, one per hook run. */
async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
}

describe('hooks in zferry run', () => {
  const src = usePool();
  const dst = usePool();
  let dir: DaemonDir;
  let data = '';
  let other = '';
  let sinkRoot = '';
  let snapLog = '';
  let replLog = '';
  let replStdin = '';

  const script = async (name: string, body: string): Promise<string> => {
    const file = path.join(dir.dir, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  };

  const config = async (): Promise<void> => {
    const refuse = await script('refuse.sh', 'echo "database busy" >&2; exit 1');
    const record = await script('record.sh', `echo "$ZFERRY_HOOKTYPE $ZFERRY_JOB $ZFERRY_FS $ZFERRY_SNAPNAME $ZFERRY_OUTCOME" >> ${snapLog}`);
    const report = await script(
      'report.sh',
      `echo "$ZFERRY_HOOKTYPE|$ZFERRY_FS|$ZFERRY_TARGET|$ZFERRY_OUTCOME|$ZFERRY_SUMMARY" >> ${replLog}; cat > ${replStdin}`,
    );
    await dir.writeConfig(
      [
        ...sinkAndPushJobs(sinkRoot),
        `    filesystems: {"${data}<": true}`,
        '    interval: manual',
        '    snapshotting:',
        '      type: periodic',
        '      prefix: auto_',
        '      interval: 1h',
        '      hooks:',
        '        - type: command',
        `          path: ${refuse}`,
        '          err_is_fatal: true',
        `          filesystems: {"${data}/db": true}`,
        '          when: pre_snapshot',
        '        - type: command',
        `          path: ${record}`,
        '    hooks:',
        '      - type: command',
        `        path: ${report}`,
        '        when: post_replication',
        '  - name: guarded',
        '    type: push',
        '    connect: {type: local, listener_name: backups, client_identity: guarded}',
        `    filesystems: {"${other}": true}`,
        '    interval: manual',
        '    hooks:',
        '      - type: command',
        `        path: ${refuse}`,
        '        err_is_fatal: true',
        '        when: pre_replication',
        '      - type: command',
        `        path: ${report}`,
        '  - name: snaps',
        '    type: snap',
        `    filesystems: {"${other}<": true}`,
        '    snapshotting:',
        '      type: cron',
        "      cron: '0 3 * * *'",
        '      prefix: snap_',
        '      hooks:',
        '        - type: command',
        `          path: ${refuse}`,
        '          err_is_fatal: true',
        `          filesystems: {"${other}/db": true}`,
        '',
      ].join('\n'),
    );
  };

  before(async () => {
    dir = await daemonDir();
    snapLog = path.join(dir.dir, 'snapshot-hooks.log');
    replLog = path.join(dir.dir, 'replication-hooks.log');
    replStdin = path.join(dir.dir, 'replication-hooks.stdin');
    data = await createDataset(src.pool.dataset('data'));
    await createDataset(`${data}/a`);
    await createDataset(`${data}/db`);
    other = await createDataset(src.pool.dataset('other'));
    await createDataset(`${other}/db`);
    await snapshot(`${other}@s1`, { recursive: true });
    sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
  });

  after(async () => {
    await dir.remove();
  });

  test('a fatal pre_snapshot hook skips its filesystem; the rest is snapshotted and replicated', async () => {
    await config();
    const run = await runZferry(['run', 'laptop', '--config', dir.configFile], { env: { ZFERRY_LOG_LEVEL: 'info' } });
    assert.equal(run.exitCode, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`failed \\[HOOK_FAILED\\]: ${data}/db: hook \\S+refuse.sh exited with 1`), 'the summary says why the run failed');
    assert.match(run.stderr, /database busy/, 'the hook output is logged');

    const taken = await names(data);
    assert.equal(taken.length, 1);
    const snap = taken[0] ?? '';
    assert.match(snap, /^auto_/);
    assert.deepEqual(await names(`${data}/a`), [snap]);
    assert.deepEqual(await names(`${data}/db`), [], 'the refused filesystem has no snapshot');

    // record.sh ran before and after each snapshotted filesystem, not after the refused one.
    assert.deepEqual(await lines(snapLog), [
      `pre_snapshot laptop ${data} ${snap} `,
      `pre_snapshot laptop ${data}/a ${snap} `,
      `post_snapshot laptop ${data} ${snap} ok`,
      `post_snapshot laptop ${data}/a ${snap} ok`,
    ]);

    const target = `${sinkRoot}/laptop/${data}`;
    assert.deepEqual(await names(target), [snap]);
    assert.deepEqual(await names(`${target}/a`), [snap]);
    const [report] = await lines(replLog);
    const [type, fs, to, outcome] = (report ?? '').split('|');
    assert.deepEqual([type, fs, to, outcome], ['post_replication', data, target, 'ok']);
  });

  test('a post_replication hook sees the failure of a diverged target, with the summary on stdin', async () => {
    const target = `${sinkRoot}/laptop/${data}`;
    await rm(replLog, { force: true });
    await snapshot(`${target}@rogue`);
    const run = await runZferry(['run', 'laptop', '--config', dir.configFile]);
    assert.equal(run.exitCode, 1, run.stderr);
    const reports = await lines(replLog);
    assert.equal(reports.length, 1, reports.join('\n'));
    const [type, fs, , outcome, summary] = (reports[0] ?? '').split('|');
    assert.deepEqual([type, fs, outcome], ['post_replication', data, 'failed']);
    assert.match(summary ?? '', new RegExp(`^${data} -> ${target}: failed; \\d+ filesystems, \\d+ failed, \\d+ bytes; \\w+: .*rogue`));
    const stdin = JSON.parse(await readFile(replStdin, 'utf8')) as {
      job: string;
      outcome: string;
      summary?: { filesystems: Array<{ source: string; outcome: string }> };
    };
    assert.equal(stdin.job, 'laptop');
    assert.equal(stdin.outcome, 'failed');
    assert.equal(stdin.summary?.filesystems.find((result) => result.source === data)?.outcome, 'failed');
  });

  test('a fatal pre_replication hook skips the replication, and its post hook does not run', async () => {
    await rm(replLog, { force: true });
    const run = await runZferry(['run', 'guarded', '--config', dir.configFile], { env: { ZFERRY_LOG_LEVEL: 'info' } });
    assert.equal(run.exitCode, 1, run.stderr);
    assert.match(run.stderr, /HOOK_FAILED/);
    assert.match(run.stderr, /database busy/);
    assert.deepEqual(await listAll(`${sinkRoot}/guarded`).catch(() => []), [], 'nothing was received');
    assert.deepEqual(await lines(replLog), [], 'post_replication runs only where the pre hooks let the run go');
  });

  test('a snap job: the filesystem a fatal pre_snapshot hook refuses is left out of the snapshot', async () => {
    const run = await runZferry(['run', 'snaps', '--config', dir.configFile]);
    assert.equal(run.exitCode, 1, run.stderr);
    const taken = (await names(other)).filter((name) => name.startsWith('snap_'));
    assert.equal(taken.length, 1);
    assert.deepEqual(await names(`${other}/db`), ['s1']);
  });
});
