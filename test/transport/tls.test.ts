import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import type { TlsListener, TransportError } from '../../transport/index.js';
import { listenTls, tlsConnector } from '../../transport/index.js';
import { createTestCa } from '../helpers/tls-ca.js';
import type { TestCa } from '../helpers/tls-ca.js';
import { acceptQueue, exchangeBytes } from '../fixtures/rpc-transport-check.js';

describe('tls transport (mutual certificates)', () => {
  let ca: TestCa;
  let listener: TlsListener;
  const queue = acceptQueue();
  const serverErrors: TransportError[] = [];
  let serverErrorWaiters: Array<() => void> = [];

  /** Resolves with the next error the listener reports. */
  const nextServerError = async (): Promise<TransportError> => {
    const seen = serverErrors.length;
    while (serverErrors.length <= seen) await new Promise<void>((resolve) => serverErrorWaiters.push(resolve));
    const err = serverErrors[seen];
    assert.ok(err);
    return err;
  };

  before(async () => {
    ca = await createTestCa();
    listener = await listenTls(
      {
        host: '127.0.0.1',
        port: 0,
        ca: ca.caCertPath, // as a path
        cert: ca.server.cert, // as PEM buffers
        key: ca.server.key,
        onError: (err) => {
          serverErrors.push(err);
          const waiters = serverErrorWaiters;
          serverErrorWaiters = [];
          for (const wake of waiters) wake();
        },
      },
      queue.onConnection,
    );
  });
  after(async () => {
    await listener?.close();
    await ca?.cleanup();
  });

  test('carries bytes both ways; the server knows the client by its certificate CN', async () => {
    const alice = await ca.issueClient('alice');
    const client = await tlsConnector({ host: '127.0.0.1', port: listener.port, ca: ca.caCert, cert: alice.certPath, key: alice.keyPath }).connect();
    const server = await queue.next();
    assert.deepEqual([server.peer.transport, server.peer.name], ['tls', 'alice']);
    assert.deepEqual([client.peer.transport, client.peer.name], ['tls', 'localhost']);
    const { aSent, bSent, aReceived, bReceived } = await exchangeBytes(client.stream, server.stream, 2 * 1024 * 1024 + 3);
    assert.ok(aSent.equals(bReceived));
    assert.ok(bSent.equals(aReceived));
    client.close();
    server.close();
  });

  test('the server name is checked: connecting as "localhost" works, a wrong name fails', async () => {
    const alice = await ca.issueClient('alice');
    const ok = await tlsConnector({ host: 'localhost', port: listener.port, ca: ca.caCert, cert: alice.cert, key: alice.key }).connect();
    ok.close();
    (await queue.next()).close();
    await assert.rejects(
      tlsConnector({ host: '127.0.0.1', port: listener.port, servername: 'backup.example', ca: ca.caCert, cert: alice.cert, key: alice.key }).connect(),
      (err: TransportError) => {
        assert.equal(err.code, 'TLS_SERVER_CERT');
        assert.match(err.message, /backup\.example/);
        return true;
      },
    );
  });

  test('a client certificate from another CA is refused with a clear error on both sides', async () => {
    const mallory = await ca.issueUntrustedClient('alice');
    const rejected = nextServerError();
    await assert.rejects(
      tlsConnector({ host: '127.0.0.1', port: listener.port, ca: ca.caCert, cert: mallory.cert, key: mallory.key }).connect(),
      (err: TransportError) => {
        assert.equal(err.code, 'TLS_CLIENT_CERT');
        assert.match(err.message, /rejected our client certificate/);
        assert.match(err.message, /issuer CN=zferry untrusted CA/);
        return true;
      },
    );
    const serverSide = await rejected;
    assert.equal(serverSide.code, 'TLS_CLIENT_CERT');
    assert.match(serverSide.message, /not trusted/);
    assert.match(serverSide.message, /subject CN=alice, issuer CN=zferry untrusted CA/);
  });

  test('a client without a certificate is refused, and the server says why', async () => {
    const rejected = nextServerError();
    const bare = tls.connect({ host: '127.0.0.1', port: listener.port, ca: ca.caCert, minVersion: 'TLSv1.3' });
    bare.on('error', () => {}); // depending on timing the client sees an alert or a plain close
    const received: Buffer[] = [];
    bare.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise<void>((resolve) => bare.once('close', () => resolve()));
    assert.equal(received.length, 0, 'the client got no data');
    const serverSide = await rejected;
    assert.equal(serverSide.code, 'TLS_CLIENT_CERT');
    assert.match(serverSide.message, /sent no client certificate/);
  });

  test('a server certificate not signed by our CA is refused', async () => {
    const alice = await ca.issueClient('alice');
    const other = await createTestCa();
    try {
      await assert.rejects(
        tlsConnector({ host: '127.0.0.1', port: listener.port, ca: other.caCert, cert: alice.cert, key: alice.key }).connect(),
        (err: TransportError) => {
          assert.equal(err.code, 'TLS_SERVER_CERT');
          assert.match(err.message, /do not trust/);
          return true;
        },
      );
    } finally {
      await other.cleanup();
    }
  });

  test('unreadable certificate files fail with TLS_CONFIG naming the file', async () => {
    await assert.rejects(
      tlsConnector({ host: '127.0.0.1', port: listener.port, ca: ca.caCert, cert: '/nonexistent/client.crt', key: ca.server.key }).connect(),
      (err: TransportError) => {
        assert.equal(err.code, 'TLS_CONFIG');
        assert.match(err.message, /\/nonexistent\/client\.crt/);
        return true;
      },
    );
  });
});
