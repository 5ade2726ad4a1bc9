/**
 * The canonical name of a replication destination: one per destination however it is spelt,
 * with the user and port ssh really uses (`ssh -G`, given a throwaway ssh_config through `-F`,
 * so that nothing of this machine's ssh configuration leaks in), and the names earlier versions
 * gave it, under which a cursor may be recorded.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { endpointSpecOf, parseLocation } from '../../../cmd/location.js';
import { localIdentity, resolveSshIdentity, sshIdentity } from '../../../replication/endpoint/identity.js';
import type { SshEndpointSpec } from '../../../replication/endpoint/spec.js';

describe('local destinations', () => {
  test('local://<hostname>/<dataset>, hostname lowercased; formerly <hostname>:<dataset>', () => {
    assert.deepEqual(localIdentity('Backup-Box', 'tank/copy'), { canonical: 'local://backup-box/tank/copy', legacy: ['Backup-Box:tank/copy'] });
  });
});

describe('ssh destinations from a resolved account', () => {
  const root22 = { user: 'root', port: 22 };

  test('the three spellings of one destination give one name', () => {
    const names = ['root@nas:backup/x', 'ssh://root@nas:22/backup/x', 'nas:backup/x'].map((text) => {
      const location = parseLocation(text);
      assert.equal(location.kind, 'ssh');
      return location.kind === 'ssh' ? sshIdentity(location, root22, root22).canonical : '';
    });
    assert.deepEqual(names, Array(3).fill('ssh://root@nas:22/backup/x'));
  });

  test('earlier names: the user and the port written out or left to ssh, the host as spelt', () => {
    const identity = sshIdentity({ host: 'NAS', dataset: 'backup/x' }, root22, root22);
    assert.equal(identity.canonical, 'ssh://root@nas:22/backup/x');
    assert.deepEqual(
      [...identity.legacy].sort(),
      [
        'ssh://NAS/backup/x',
        'ssh://NAS:22/backup/x',
        'ssh://root@NAS/backup/x',
        'ssh://root@NAS:22/backup/x',
        'ssh://nas/backup/x',
        'ssh://nas:22/backup/x',
        'ssh://root@nas/backup/x',
      ].sort(),
    );
  });

  test('a user or port left out counts only where ssh would have chosen the same', () => {
    // The connection goes to port 2222 as backup, while ssh on its own would use root at 22.
    const identity = sshIdentity({ host: 'nas', user: 'backup', port: 2222, dataset: 'p/f' }, { user: 'backup', port: 2222 }, root22);
    assert.equal(identity.canonical, 'ssh://backup@nas:2222/p/f');
    assert.deepEqual(identity.legacy, []);
    const portOnly = sshIdentity({ host: 'nas', port: 2222, dataset: 'p/f' }, { user: 'root', port: 2222 }, root22);
    assert.deepEqual([...portOnly.legacy].sort(), ['ssh://nas:2222/p/f']);
  });

  test('an IPv6 address in brackets; earlier versions wrote it bare', () => {
    const identity = sshIdentity({ host: '::1', dataset: 'pool' }, root22, root22);
    assert.equal(identity.canonical, 'ssh://root@[::1]:22/pool');
    assert.ok(identity.legacy.includes('ssh://::1/pool'));
    assert.equal(sshIdentity({ host: '[FE80::1]', dataset: 'pool' }, root22, root22).canonical, 'ssh://root@[fe80::1]:22/pool');
  });
});

describe('ssh destinations resolved by ssh -G', () => {
  let dir: string;
  let configFile: string;
  const specOf = (text: string, extra: Partial<SshEndpointSpec> = {}): SshEndpointSpec => {
    const spec = endpointSpecOf(parseLocation(text), { options: [], remoteCommand: ['zferry', 'serve', '--stdio'] });
    assert.equal(spec.kind, 'ssh');
    return { ...spec, configFile, ...extra };
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-identity-'));
    configFile = path.join(dir, 'ssh_config');
    // Read instead of ~/.ssh/config and /etc/ssh/ssh_config: the test sees only this.
    await writeFile(configFile, ['Host nas', '  User root', 'Host vault', '  User backup', '  Port 2200', '  HostName 192.0.2.7', ''].join('\n'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the three spellings of one destination (user root from ssh_config) give one identity', async () => {
    const identities = await Promise.all(['root@nas:backup/x', 'ssh://root@nas:22/backup/x', 'nas:backup/x'].map((text) => resolveSshIdentity(specOf(text))));
    for (const identity of identities) assert.equal(identity.canonical, 'ssh://root@nas:22/backup/x');
    // Each one's earlier names include the other spellings' (what earlier versions tagged them with).
    for (const identity of identities) {
      for (const earlier of ['ssh://root@nas/backup/x', 'ssh://nas/backup/x', 'ssh://nas:22/backup/x'])
        assert.ok(identity.legacy.includes(earlier), `${earlier} in ${identity.legacy.join(' ')}`);
    }
  });

  test('user and port come from ssh_config; the host stays the alias, not its HostName', async () => {
    const identity = await resolveSshIdentity(specOf('vault:tank/copy'));
    assert.equal(identity.canonical, 'ssh://backup@vault:2200/tank/copy');
    assert.deepEqual([...identity.legacy].sort(), ['ssh://backup@vault/tank/copy', 'ssh://vault/tank/copy', 'ssh://vault:2200/tank/copy']);
  });

  test('what the command line says wins over ssh_config, as it does for the connection', async () => {
    assert.equal((await resolveSshIdentity(specOf('ssh://admin@vault:2222/tank/copy'))).canonical, 'ssh://admin@vault:2222/tank/copy');
    // ssh keeps the first value given: `--ssh-option` comes before the location's user and port.
    const overridden = await resolveSshIdentity(specOf('admin@vault:tank/copy', { options: ['User=ops', 'Port=2022'] }));
    assert.equal(overridden.canonical, 'ssh://ops@vault:2022/tank/copy');
  });

  test('an ssh_config ssh cannot read is an error, not a guess', async () => {
    const broken = path.join(dir, 'broken_config');
    await writeFile(broken, 'Host nas\n  NoSuchKeyword yes\n');
    await assert.rejects(resolveSshIdentity(specOf('nas:backup/x', { configFile: broken })), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'SSH_FAILED');
      assert.match(error.message, /NoSuchKeyword|bad configuration/i);
      return true;
    });
  });
});
