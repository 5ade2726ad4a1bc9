/**
 * `ssh -G`: the configuration a connection would use, read with the connection's own options
 * and a throwaway ssh_config (`-F`), so nothing of this machine's configuration leaks in.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseSshConfigDump, sshEffectiveConfig } from '../../transport/ssh-config.js';

describe('sshEffectiveConfig', () => {
  let dir: string;
  let configFile: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-ssh-config-'));
    configFile = path.join(dir, 'ssh_config');
    await writeFile(configFile, ['Host nas', '  User backup', '  Port 2200', '  HostName NAS.example', ''].join('\n'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('user, port and host name as ssh_config sets them', async () => {
    assert.deepEqual(await sshEffectiveConfig({ host: 'nas', configFile }), { user: 'backup', port: 2200, hostname: 'nas.example' });
  });

  test('the command line wins, in the order the connection gives it', async () => {
    assert.deepEqual(await sshEffectiveConfig({ host: 'nas', user: 'root', port: 22, configFile }), { user: 'root', port: 22, hostname: 'nas.example' });
    // `-o` options come first on the connection's command line, so they beat -l and -p.
    const config = await sshEffectiveConfig({ host: 'nas', user: 'root', port: 22, options: ['User=ops', 'Port=2022'], configFile });
    assert.deepEqual(config, { user: 'ops', port: 2022, hostname: 'nas.example' });
  });

  test('ssh missing, or refusing its configuration, is a TransportError', async () => {
    await assert.rejects(sshEffectiveConfig({ host: 'nas', configFile, sshBin: path.join(dir, 'no-ssh-here') }), {
      name: 'TransportError',
      code: 'SPAWN_FAILED',
    });
    const broken = path.join(dir, 'broken');
    await writeFile(broken, 'Host nas\n  Frobnicate yes\n');
    await assert.rejects(sshEffectiveConfig({ host: 'nas', configFile: broken }), { name: 'TransportError', code: 'SSH_FAILED' });
    await assert.rejects(sshEffectiveConfig({ host: '-oProxyCommand=x', configFile }), { code: 'INVALID_ARGUMENT' });
  });

  test('the dump is read keyword by keyword, the first value winning', () => {
    const dump = parseSshConfigDump('user root\nPort 22\nidentityfile ~/.ssh/a\nidentityfile ~/.ssh/b\n');
    assert.equal(dump.get('user'), 'root');
    assert.equal(dump.get('port'), '22');
    assert.equal(dump.get('identityfile'), '~/.ssh/a');
  });
});
