import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointSpecOf, formatLocation, parseLocation } from '../../cmd/location.js';
import { splitCommand } from '../../cmd/command-words.js';

describe('parseLocation', () => {
  test('a plain dataset is local, colons after the first slash included', () => {
    assert.deepEqual(parseLocation('tank/data'), { kind: 'local', dataset: 'tank/data' });
    assert.deepEqual(parseLocation('tank/a:b'), { kind: 'local', dataset: 'tank/a:b' });
  });
  test('scp style with and without user', () => {
    assert.deepEqual(parseLocation('backup@host.example:pool/fs'), { kind: 'ssh', host: 'host.example', user: 'backup', dataset: 'pool/fs' });
    assert.deepEqual(parseLocation('host:pool'), { kind: 'ssh', host: 'host', dataset: 'pool' });
  });
  test('ssh:// URLs with port and IPv6', () => {
    assert.deepEqual(parseLocation('ssh://root@127.0.0.1:2222/pool/fs'), { kind: 'ssh', host: '127.0.0.1', user: 'root', port: 2222, dataset: 'pool/fs' });
    assert.deepEqual(parseLocation('ssh://[::1]/pool'), { kind: 'ssh', host: '::1', dataset: 'pool' });
    assert.equal(formatLocation(parseLocation('ssh://u@h:22/p/f')), 'ssh://u@h:22/p/f');
  });
  test('malformed locations are usage errors', () => {
    for (const bad of ['-oProxyCommand=x', 'ssh://host', 'ssh://h:99999/p', ':pool', 'host:', '@host:pool']) {
      assert.throws(
        () => parseLocation(bad),
        (error: Error & { code?: string }) => error.code === 'USAGE',
        bad,
      );
    }
  });
});

describe('endpointSpecOf', () => {
  const ssh = { identityFile: '/keys/id', options: ['Ciphers=aes128-gcm@openssh.com'], remoteCommand: ['zferry', 'serve', '--stdio'] };

  test('a local dataset is a local spec, without the ssh settings', () => {
    assert.deepEqual(endpointSpecOf(parseLocation('tank/data'), ssh), { kind: 'local', dataset: 'tank/data' });
  });
  test('each remote spelling is an ssh spec carrying the ssh settings; what is not spelt stays unset', () => {
    assert.deepEqual(endpointSpecOf(parseLocation('root@nas:backup/x'), ssh), { kind: 'ssh', host: 'nas', user: 'root', ...ssh, dataset: 'backup/x' });
    assert.deepEqual(endpointSpecOf(parseLocation('ssh://root@nas:22/backup/x'), ssh), {
      kind: 'ssh',
      host: 'nas',
      user: 'root',
      port: 22,
      ...ssh,
      dataset: 'backup/x',
    });
    assert.deepEqual(endpointSpecOf(parseLocation('nas:backup/x'), ssh), { kind: 'ssh', host: 'nas', ...ssh, dataset: 'backup/x' });
    assert.deepEqual(endpointSpecOf(parseLocation('ssh://[::1]:2222/pool'), { options: [], remoteCommand: ['zferry'] }), {
      kind: 'ssh',
      host: '::1',
      port: 2222,
      options: [],
      remoteCommand: ['zferry'],
      dataset: 'pool',
    });
  });
});

describe('splitCommand', () => {
  test('splits words and keeps quoted groups', () => {
    assert.deepEqual(splitCommand(`node "/opt/my dir/zferry.js" serve --stdio`), ['node', '/opt/my dir/zferry.js', 'serve', '--stdio']);
    assert.throws(() => splitCommand('   '), /empty/);
  });
});
