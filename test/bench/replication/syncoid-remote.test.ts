import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { syncoidRemote, zfsGetFiltersTypes } from '../../../bench/replication/syncoid-remote.js';
import type { RemoteHost } from '../../../bench/replication/replicators.js';
import { SSH_CLIENT_OPTIONS, startSshd, type Sshd } from '../../helpers/sshd.js';
import { usePool, zfs } from '../../helpers/zfs-pool.js';

const run = promisify(execFile);

describe('syncoid remote: a zfs shim for syncoid sessions where `zfs get` has no -t', () => {
  const pools = usePool();
  let sshd: Sshd;
  let remote: RemoteHost;

  before(async () => {
    sshd = await startSshd();
    await sshd.authorize();
    remote = {
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      identityFile: sshd.clientKey.privateKeyPath,
      cipher: 'aes128-gcm@openssh.com',
      clientOptions: SSH_CLIENT_OPTIONS,
    };
    const fs = pools.pool.dataset('fs');
    await zfs('create', fs);
    await zfs('create', `${fs}/child`);
    await zfs('snapshot', '-r', `${fs}@one`);
    await zfs('snapshot', `${fs}@two`);
  });
  after(async () => sshd?.stop());

  /** Runs `command` in an ssh session of `host` and returns its stdout. */
  async function overSsh(host: RemoteHost, command: string): Promise<string> {
    const argv = ['-p', String(host.port), '-i', host.identityFile, ...host.clientOptions.flatMap((o) => ['-o', o]), `${host.user}@${host.host}`, command];
    return (await run('ssh', argv)).stdout;
  }

  test('syncoid gets its own key whose sessions filter `zfs get -t` rows by type', async () => {
    const { remote: forSyncoid, note } = await syncoidRemote(sshd, remote, pools.pool.name);
    assert.notEqual(forSyncoid.identityFile, remote.identityFile);
    assert.match(note ?? '', /no `zfs get -t`/);
    const fs = pools.pool.dataset('fs');

    // What syncoid 2.1 asks for: the snapshots directly under one filesystem.
    const snapshots = await overSsh(forSyncoid, `zfs get -Hpd 1 -t snapshot guid,creation ${fs}`);
    const names = [
      ...new Set(
        snapshots
          .trim()
          .split('\n')
          .map((line) => line.split('\t')[0]),
      ),
    ];
    assert.deepEqual(names, [`${fs}@one`, `${fs}@two`]);
    const filesystems = await overSsh(forSyncoid, `zfs get -H -r -o name -t filesystem,volume name ${fs}`);
    assert.deepEqual(filesystems.trim().split('\n'), [fs, `${fs}/child`]);
    const all = await overSsh(forSyncoid, `zfs get -H -r -o name -t all name ${fs}`);
    assert.equal(all.trim().split('\n').length, 5);

    // Everything else is the real zfs, exit codes included.
    assert.equal((await overSsh(forSyncoid, `zfs list -H -o name ${fs}`)).trim(), fs);
    await assert.rejects(overSsh(forSyncoid, `zfs get -H -t snapshot name ${fs}/missing`), (error: { code?: number }) => error.code === 1);

    // The other contenders' sessions never see the shim.
    await assert.rejects(overSsh(remote, `zfs get -Hpd 1 -t snapshot guid ${fs}`));
  });

  test('the shim is needed here: zfs-fuse rejects `zfs get -t`', async () => {
    // With a zfs that has -t, syncoidRemote() hands out the shared key and no shim.
    assert.equal(await zfsGetFiltersTypes(pools.pool.name), false);
    await assert.rejects(zfs('get', '-H', '-t', 'snapshot', 'name', pools.pool.name));
  });
});
