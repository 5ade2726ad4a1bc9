/**
 * The RPC core over every transport: one small call and a byte stream each way, through real
 * sockets, a real TLS handshake, a child process's stdio and a real sshd.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { RpcConnectionLostError, RpcServer, connect } from '../../rpc/index.js';
import type { ConnectedClient } from '../../rpc/index.js';
import type { Connector, Listener, TransportConnection } from '../../transport/index.js';
import {
  TransportError,
  childProcessConnector,
  listenTcp,
  listenTls,
  listenUnix,
  sshConnector,
  tcpConnector,
  tlsConnector,
  unixConnector,
} from '../../transport/index.js';
import { echoContract, echoImplementation } from '../fixtures/rpc-echo-contract.js';
import { fixtureCommand } from '../fixtures/rpc-fixture-command.js';
import { PatternSource, hashStream } from '../fixtures/rpc-pattern.js';
import { createTestCa } from '../helpers/tls-ca.js';
import { waitFor } from '../helpers/rpc-util.js';
import type { TestCa } from '../helpers/tls-ca.js';
import { nodeCommand, startSshd } from '../helpers/sshd.js';
import type { Sshd } from '../helpers/sshd.js';

const STREAM_BYTES = 24 * 1024 * 1024 + 12345;

/** A call, a request stream and a response stream, each verified. Returns the echo answer. */
async function exercise(client: ConnectedClient<typeof echoContract>, label: string): Promise<{ peerName: string; peerTransport: string }> {
  const answer = await client.echo({ text: `hello over ${label}` });
  assert.equal(answer.text, `hello over ${label}`);

  const upload = new PatternSource(STREAM_BYTES, 7);
  const received = await client.sink({}, upload);
  assert.equal(received.bytes, STREAM_BYTES);
  assert.equal(received.sha256, upload.sha256(), 'the server hashed exactly what we sent');

  const id = `${label}-${process.pid}`;
  const { response, stream } = await client.source({ id, bytes: STREAM_BYTES, seed: 11 });
  assert.equal(response.bytes, STREAM_BYTES);
  const downloaded = await hashStream(stream);
  const sent = await client.sourceDigest({ id });
  assert.deepEqual(downloaded, { bytes: sent.bytes, sha256: sent.sha256 }, 'we hashed exactly what the server sent');
  return answer;
}

describe('RPC over each transport', () => {
  const server = new RpcServer({ identity: 'transport-test' });
  server.register(echoContract, echoImplementation());
  const serve = (connection: TransportConnection): void => {
    server.serve(connection);
  };
  const listeners: Listener[] = [];
  let dir = '';
  let ca: TestCa | undefined;
  let sshd: Sshd | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-rpc-transports-'));
  });
  after(async () => {
    await server.close();
    await Promise.all(listeners.map((listener) => listener.close()));
    await ca?.cleanup();
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(connector: Connector, label: string): Promise<{ peerName: string; peerTransport: string }> {
    const client = await connect(await connector.connect(), echoContract);
    try {
      return await exercise(client, label);
    } finally {
      await client.close();
    }
  }

  test('tcp', async () => {
    const listener = await listenTcp({ host: '127.0.0.1', port: 0 }, serve);
    listeners.push(listener);
    const answer = await run(tcpConnector({ host: '127.0.0.1', port: listener.port }), 'tcp');
    assert.equal(answer.peerTransport, 'tcp');
    assert.match(answer.peerName, /^127\.0\.0\.1:\d+$/);
  });

  test('unix socket', async () => {
    const socketPath = path.join(dir, 'rpc.sock');
    listeners.push(await listenUnix({ path: socketPath }, serve));
    const answer = await run(unixConnector({ path: socketPath }), 'unix');
    assert.deepEqual(answer, { text: 'hello over unix', peerName: socketPath, peerTransport: 'unix' });
  });

  test('tls: the handler sees the client certificate CN as the peer', async () => {
    ca ??= await createTestCa();
    const listener = await listenTls({ host: '127.0.0.1', port: 0, ca: ca.caCert, ...ca.server }, serve);
    listeners.push(listener);
    const client = await ca.issueClient('backup-host-7');
    const answer = await run(tlsConnector({ host: '127.0.0.1', port: listener.port, ca: ca.caCert, cert: client.cert, key: client.key }), 'tls');
    assert.deepEqual([answer.peerName, answer.peerTransport], ['backup-host-7', 'tls']);
  });

  test('stdio of a child process running the fixture server', async () => {
    const { file, args } = fixtureCommand('rpc-echo-server', ['--stdio']);
    const answer = await run(childProcessConnector({ file, args }), 'stdio');
    assert.deepEqual([answer.peerName, answer.peerTransport], ['stdio', 'stdio']);
  });

  test('ssh to a real sshd whose forced command runs the fixture server', async () => {
    sshd ??= await startSshd();
    await sshd.authorize({ command: nodeCommand(fixtureCommand('rpc-echo-server').script, ['--stdio']) });
    const answer = await run(sshConnector({ ...sshd.connectOptions(), remoteCommand: ['zferry', 'serve', '--stdio'] }), 'ssh');
    assert.deepEqual([answer.peerName, answer.peerTransport], ['stdio', 'stdio']);
  });

  test('a failing ssh surfaces through connect() with ssh stderr and exit code', async () => {
    sshd ??= await startSshd();
    const stranger = await sshd.newClientKey('stranger');
    await assert.rejects(
      connect(await sshConnector({ ...sshd.connectOptions(stranger), remoteCommand: ['zferry', 'serve', '--stdio'] }).connect(), echoContract),
      (err: unknown) => {
        assert.ok(err instanceof RpcConnectionLostError, `got ${String(err)}`);
        assert.ok(err.cause instanceof TransportError);
        assert.equal(err.cause.code, 'SSH_AUTH');
        assert.match(err.message, /exit code 255.*Permission denied \(publickey\)/);
        return true;
      },
    );
    const closedPort = await listenTcp({ host: '127.0.0.1', port: 0 }, () => {});
    const port = closedPort.port;
    await closedPort.close();
    await assert.rejects(connect(await sshConnector({ ...sshd.connectOptions(), port, remoteCommand: ['zferry'] }).connect(), echoContract), (err: unknown) => {
      assert.ok(err instanceof RpcConnectionLostError);
      assert.ok(err.cause instanceof TransportError);
      assert.equal(err.cause.code, 'SSH_CONNECT');
      assert.match(err.message, /Connection refused/);
      return true;
    });
  });

  test('a wrong client certificate is refused before any RPC starts', async () => {
    ca ??= await createTestCa();
    // Every connection the listener hands on (to the RPC server) and every client it rejects.
    const handedOn: string[] = [];
    const rejected: TransportError[] = [];
    const listener = await listenTls({ host: '127.0.0.1', port: 0, ca: ca.caCert, ...ca.server, onError: (err) => rejected.push(err) }, (connection) => {
      handedOn.push(connection.peer.name);
      serve(connection);
    });
    listeners.push(listener);
    const mallory = await ca.issueUntrustedClient('backup-host-7');
    await assert.rejects(
      tlsConnector({ host: '127.0.0.1', port: listener.port, ca: ca.caCert, cert: mallory.cert, key: mallory.key }).connect(),
      (err: unknown) => err instanceof TransportError && err.code === 'TLS_CLIENT_CERT',
    );
    // The server side is done with the client once it has reported the rejection.
    await waitFor(() => rejected.length > 0, 'the listener reports the rejected client');
    assert.equal(rejected[0]?.code, 'TLS_CLIENT_CERT');
    assert.match(rejected[0]?.message ?? '', /certificate not trusted \(subject CN=backup-host-7/);
    assert.deepEqual(handedOn, [], 'the rejected client never reached the RPC server');

    // The same listener still hands a trusted client on: the check above could see one.
    const trusted = await ca.issueClient('backup-host-8');
    const answer = await run(tlsConnector({ host: '127.0.0.1', port: listener.port, ca: ca.caCert, cert: trusted.cert, key: trusted.key }), 'tls');
    assert.equal(answer.peerName, 'backup-host-8');
    assert.deepEqual(handedOn, ['backup-host-8']);
  });
});
