import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TransportError, listenTcp, tcpConnector } from '../../transport/index.js';
import { acceptQueue, exchangeBytes } from '../fixtures/rpc-transport-check.js';

describe('tcp transport', () => {
  const queue = acceptQueue();
  const listening = listenTcp({ host: '127.0.0.1', port: 0 }, queue.onConnection);
  after(async () => (await listening).close());

  test('carries bytes both ways and names both peers', async () => {
    const listener = await listening;
    assert.ok(listener.port > 0);
    assert.equal(listener.address, `127.0.0.1:${listener.port}`);
    const client = await tcpConnector({ host: '127.0.0.1', port: listener.port }).connect();
    const server = await queue.next();
    assert.equal(client.peer.transport, 'tcp');
    assert.equal(client.peer.name, `127.0.0.1:${listener.port}`);
    assert.equal(server.peer.transport, 'tcp');
    const socket = client.stream as net.Socket;
    assert.equal(server.peer.name, `127.0.0.1:${socket.localPort}`);

    const { aSent, bSent, aReceived, bReceived } = await exchangeBytes(client.stream, server.stream, 3 * 1024 * 1024 + 17);
    assert.ok(aSent.equals(bReceived), 'server received what the client sent');
    assert.ok(bSent.equals(aReceived), 'client received what the server sent');
    client.close();
    server.close();
    client.close(); // idempotent
  });

  test('connecting to a closed port fails with CONNECT_FAILED naming the address', async () => {
    const probe = await listenTcp({ host: '127.0.0.1', port: 0 }, () => {});
    const port = probe.port;
    await probe.close();
    await assert.rejects(tcpConnector({ host: '127.0.0.1', port }).connect(), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'CONNECT_FAILED');
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
      return true;
    });
  });

  test('an aborted signal stops connect', async () => {
    const listener = await listening;
    const controller = new AbortController();
    controller.abort(new Error('changed my mind'));
    await assert.rejects(tcpConnector({ host: '127.0.0.1', port: listener.port }).connect(controller.signal), { code: 'ABORTED' });
  });

  test('close() stops accepting and tears down open connections', async () => {
    const own = acceptQueue();
    const listener = await listenTcp({ host: '127.0.0.1', port: 0 }, own.onConnection);
    const client = await tcpConnector({ host: '127.0.0.1', port: listener.port }).connect();
    await own.next();
    const clientClosed = new Promise<void>((resolve) => client.stream.once('close', () => resolve()));
    client.stream.resume();
    await listener.close();
    await clientClosed;
    await assert.rejects(tcpConnector({ host: '127.0.0.1', port: listener.port }).connect(), { code: 'CONNECT_FAILED' });
  });

  test('a busy port fails with LISTEN_FAILED; invalid ports are refused', async () => {
    const listener = await listening;
    await assert.rejects(
      listenTcp({ host: '127.0.0.1', port: listener.port }, () => {}),
      (err: unknown) => {
        assert.ok(err instanceof TransportError);
        assert.equal(err.code, 'LISTEN_FAILED');
        assert.match(err.message, /EADDRINUSE/);
        return true;
      },
    );
    assert.throws(() => tcpConnector({ host: '127.0.0.1', port: 70000 }), { code: 'INVALID_ARGUMENT' });
  });
});
