/**
 * A daemon stopped (SIGTERM) in the middle of a pull over ssh: the job's post_replication hook
 * still runs, and is told `interrupted`, so a report of "no backup tonight" is not lost.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { daemonDir, daemonReady, sshConnectYaml, startDaemon, throttledServeCommand, type DaemonDir, type RunningDaemon } from '../helpers/daemon-process.js';
import { useSshd } from '../helpers/sshd.js';
import { createDataset, snapshot, usePool, writeFile as writeDataset } from '../helpers/zfs-pool.js';

const MiB = 1024 * 1024;

describe('hooks in a daemon that is stopped', () => {
  const sshd = useSshd();
  const src = usePool({ sizeMiB: 256 });
  const dst = usePool({ sizeMiB: 256 });
  let dir: DaemonDir;
  let daemon: RunningDaemon | undefined;
  let big = '';
  let into = '';
  let report = '';

  before(async () => {
    dir = await daemonDir();
    report = path.join(dir.dir, 'report.log');
    const hook = path.join(dir.dir, 'report.sh');
    await writeFile(hook, `#!/bin/sh\necho "$ZFERRY_HOOKTYPE|$ZFERRY_FS|$ZFERRY_OUTCOME" >> ${report}\n`);
    await chmod(hook, 0o755);
    const slow = await sshd().newClientKey('slow');
    await sshd().authorize({ key: slow, command: throttledServeCommand(2 * MiB) });
    big = await createDataset(src.pool.dataset('big'));
    await writeDataset(big, 'blob', 40 * MiB);
    await snapshot(`${big}@s1`);
    into = await createDataset(dst.pool.dataset('pulled'), { properties: { mountpoint: 'none' } });
    await dir.writeConfig(
      [
        'jobs:',
        '  - name: slow',
        '    type: pull',
        sshConnectYaml(sshd(), slow, '    '),
        `    root_fs: ${into}`,
        `    filesystems: {"${big}": true}`,
        '    interval: 1h',
        '    hooks:',
        '      - type: command',
        `        path: ${hook}`,
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (daemon && !daemon.process.exited) await daemon.stop();
    await dir.remove();
  });

  test('SIGTERM mid-transfer: post_replication runs with outcome interrupted', async () => {
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    await daemon.waitForJob('slow', (job) => job.state === 'running' && job.filesystems.some((fs) => fs.bytes > 0), 'the daemon is transferring');
    const stopped = await daemon.stop();
    assert.equal(stopped.exitCode, 0, stopped.stderr);
    assert.deepEqual((await readFile(report, 'utf8')).trim().split('\n'), [`pre_replication|${big}|`, `post_replication|${big}|interrupted`]);
  });
});
