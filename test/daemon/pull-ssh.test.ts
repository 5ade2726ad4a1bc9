/**
 * `zferry daemon` with a pull job over ssh from a host whose authorized_keys forces
 * `zferry serve --stdio`: the selected tree lands below root_fs (`root_fs/pool/x`), with the
 * source's guids, and again incrementally.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { serveCommand } from '../helpers/cli.js';
import { daemonDir, daemonReady, sshConnectYaml, startDaemon, type DaemonDir, type RunningDaemon } from '../helpers/daemon-process.js';
import { useSshd, type SshKeyPair } from '../helpers/sshd.js';
import { createDataset, listSnapshots, snapshot, usePool } from '../helpers/zfs-pool.js';

async function guids(filesystem: string): Promise<Record<string, string>> {
  return Object.fromEntries((await listSnapshots(filesystem)).map((s) => [s.name, s.guid]));
}

describe('a daemon pulling over ssh from a forced `zferry serve --stdio`', () => {
  const sshd = useSshd();
  const src = usePool();
  const dst = usePool();
  let dir: DaemonDir;
  let daemon: RunningDaemon | undefined;
  let key: SshKeyPair;
  let data = '';
  let into = '';

  before(async () => {
    dir = await daemonDir();
    key = await sshd().newClientKey('forced');
    // The job asks for the default `zferry serve --stdio`, which is not on this host's PATH:
    // only the forced command can answer.
    await sshd().authorize({ key, command: serveCommand() });
    data = await createDataset(src.pool.dataset('data'));
    await createDataset(`${data}/child`);
    await snapshot(`${data}@s1`, { recursive: true });
    into = await createDataset(dst.pool.dataset('pulled'), { properties: { mountpoint: 'none' } });
    await dir.writeConfig(
      [
        'jobs:',
        '  - name: fetch',
        '    type: pull',
        sshConnectYaml(sshd(), key, '    '),
        `    root_fs: ${into}`,
        '    filesystems:',
        `      "${data}<": true`,
        '    interval: 1s',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (daemon && !daemon.process.exited) await daemon.stop();
    await dir.remove();
  });

  test('pulls the tree below root_fs, then each new snapshot', async () => {
    daemon = startDaemon(dir);
    await daemonReady(daemon);
    const pulled = (name: string) => (job: { filesystems: Array<{ source: string; lastReplicated?: { snapshot: string } }> }) =>
      [data, `${data}/child`].every((fs) => job.filesystems.find((view) => view.source === fs)?.lastReplicated?.snapshot === name);
    await daemon.waitForJob('fetch', pulled('s1'), 'pulled @s1');
    const target = `${into}/${data}`;
    assert.deepEqual(await guids(target), await guids(data));
    assert.deepEqual(await guids(`${target}/child`), await guids(`${data}/child`));

    await snapshot(`${data}@s2`, { recursive: true });
    const job = await daemon.waitForJob('fetch', pulled('s2'), 'pulled @s2');
    assert.deepEqual(await guids(`${target}/child`), await guids(`${data}/child`));
    assert.deepEqual(Object.keys(await guids(target)), ['s1', 's2']);
    assert.equal(job.last?.outcome, 'ok');
    const stopped = await daemon.stop();
    assert.equal(stopped.exitCode, 0, stopped.stderr);
  });
});
