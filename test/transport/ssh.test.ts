import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { ChildConnection } from '../../transport/index.js';
import { TransportError, shellQuote, sshArguments, sshConnector } from '../../transport/index.js';
import { nodeCommand, startSshd } from '../helpers/sshd.js';
import type { SshKeyPair, Sshd } from '../helpers/sshd.js';
import { fixtureCommand } from '../fixtures/rpc-fixture-command.js';
import { readAll, writeAll } from '../fixtures/rpc-transport-check.js';

async function failureOf(connection: ChildConnection): Promise<TransportError> {
  connection.stream.resume();
  const err = await new Promise<unknown>((resolve) => connection.stream.once('error', resolve));
  assert.ok(err instanceof TransportError, `expected a TransportError, got ${String(err)}`);
  return err;
}

describe('ssh transport (against a real sshd)', () => {
  let sshd: Sshd;
  let echoKey: SshKeyPair;
  let failKey: SshKeyPair;

  before(async () => {
    sshd = await startSshd();
    // The client's own command line is ignored: sshd runs the forced command.
    await sshd.authorize({ command: nodeCommand(fixtureCommand('rpc-stdio-echo').script, ['echo']) });
    echoKey = sshd.clientKey;
    failKey = await sshd.newClientKey('fail');
    await sshd.authorize({ key: failKey, command: 'echo "zferry: command not found" >&2; exit 127' });
  });
  after(async () => sshd?.stop());

  test('carries bytes exactly both ways through a forced command', async () => {
    const connection = (await sshConnector({ ...sshd.connectOptions(echoKey), remoteCommand: ['zferry', 'serve', '--stdio'] }).connect()) as ChildConnection;
    assert.deepEqual([connection.peer.transport, connection.peer.name], ['ssh', `${sshd.user}@127.0.0.1`]);
    const sent = randomBytes(3 * 1024 * 1024 + 7);
    const [received] = await Promise.all([readAll(connection.stream), writeAll(connection.stream, sent)]);
    assert.ok(received.equals(sent));
    const exit = await connection.exited;
    assert.equal(exit.exitCode, 0);
  });

  test('a key the server does not accept fails with SSH_AUTH and ssh stderr', async () => {
    const stranger = await sshd.newClientKey('stranger');
    const connection = (await sshConnector({ ...sshd.connectOptions(stranger), remoteCommand: ['true'] }).connect()) as ChildConnection;
    const err = await failureOf(connection);
    assert.equal(err.code, 'SSH_AUTH');
    assert.match(err.message, /exit code 255/);
    assert.match(err.message, /Permission denied \(publickey\)/);
  });

  test('a host that is down (closed port) fails with SSH_CONNECT and ssh stderr', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const connection = (await sshConnector({ ...sshd.connectOptions(), port, remoteCommand: ['true'] }).connect()) as ChildConnection;
    const err = await failureOf(connection);
    assert.equal(err.code, 'SSH_CONNECT');
    assert.match(err.message, /exit code 255/);
    assert.match(err.message, new RegExp(`port ${port}: Connection refused`));
  });

  test('a remote command that fails reports its exit code and stderr', async () => {
    const connection = (await sshConnector({ ...sshd.connectOptions(failKey), remoteCommand: ['zferry', 'serve', '--stdio'] }).connect()) as ChildConnection;
    const err = await failureOf(connection);
    assert.equal(err.code, 'SSH_REMOTE_COMMAND');
    assert.match(err.message, /exit code 127/);
    assert.match(err.message, /zferry: command not found/);
  });

  test('host, user and options cannot smuggle ssh options', () => {
    const base = { remoteCommand: ['zferry', 'serve', '--stdio'] };
    assert.throws(() => sshConnector({ ...base, host: '-oProxyCommand=touch /tmp/pwned' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => sshConnector({ ...base, host: 'backup host' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => sshConnector({ ...base, host: 'root@backup' }), /pass the user separately/);
    assert.throws(() => sshConnector({ ...base, host: 'backup', user: '-lroot' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => sshConnector({ ...base, host: 'backup', identityFile: '-F/etc/passwd' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => sshConnector({ ...base, host: 'backup', options: ['-F/x'] }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => sshConnector({ ...base, host: 'backup', remoteCommand: [] }), { code: 'INVALID_ARGUMENT' });

    const args = sshArguments({ ...base, host: 'backup.example', user: 'zferry', port: 2222, options: ['Ciphers=aes128-gcm@openssh.com'] });
    const dashDash = args.indexOf('--');
    assert.deepEqual(args.slice(dashDash), ['--', 'backup.example', 'zferry serve --stdio']);
    assert.ok(args.indexOf('Ciphers=aes128-gcm@openssh.com') < args.indexOf('ConnectTimeout=20'), 'caller options come first (ssh keeps the first value)');
    assert.deepEqual(args.slice(0, 6), ['-T', '-e', 'none', '-o', 'BatchMode=yes', '-o']);
  });

  test('remote arguments are quoted for the remote shell', () => {
    assert.equal(shellQuote('tank/backup@snap-1'), 'tank/backup@snap-1');
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.equal(shellQuote('$(reboot)'), "'$(reboot)'");
    assert.equal(shellQuote(''), "''");
  });
});
