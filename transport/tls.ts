import tls from 'node:tls';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { setImmediate as nextImmediate } from 'node:timers/promises';
import type { Connector, ConnectionHandler, Listener, PeerIdentity, TransportConnection } from './types.js';
import { TransportError, errorMessage, errorCode } from './errors.js';
import { awaitSocketEvent, awaitSocketReady, connectFailed } from './socket-connect.js';
import type { SocketWaitFailures } from './socket-connect.js';
import { formatHostPort, listenOnHostPort, socketConnection } from './socket-listener.js';
import type { ListenerErrorHandler } from './socket-listener.js';

/** PEM contents (a Buffer, or a string containing `-----BEGIN`), or a path to a PEM file. */
export type PemSource = Buffer | string;

export interface TlsCredentials {
  /** CA certificate(s) the peer's certificate must chain to. */
  ca: PemSource;
  /** Our certificate (chain). */
  cert: PemSource;
  key: PemSource;
}

export interface TlsConnectOptions extends TlsCredentials {
  host: string;
  port: number;
  /** Name the server certificate must carry; default: `host` (IP addresses match IP SANs). */
  servername?: string;
  /**
   * The common name the server certificate must carry (zrepl's `server_cn`): checked instead of
   * the host name, whatever address the server was reached at. A mismatch fails the handshake.
   */
  serverCn?: string;
  /** How long to wait for the server to accept our certificate; default 30 s. */
  handshakeTimeoutMs?: number;
}

export interface TlsListenOptions extends TlsCredentials {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Rejected clients (bad or missing certificate) and failed handshakes are reported here. */
  onError?: ListenerErrorHandler;
  /** Handshakes taking longer than this are dropped; default 30 s. */
  handshakeTimeoutMs?: number;
}

export interface TlsListener extends Listener {
  readonly host: string;
  readonly port: number;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;

interface LoadedCredentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

async function loadPem(source: PemSource, what: string): Promise<Buffer> {
  if (Buffer.isBuffer(source)) return source;
  if (source.includes('-----BEGIN')) return Buffer.from(source);
  try {
    return await readFile(source);
  } catch (err) {
    throw new TransportError('TLS_CONFIG', `cannot read TLS ${what} from ${source}: ${errorMessage(err)}`, { cause: err });
  }
}

async function loadCredentials(options: TlsCredentials): Promise<LoadedCredentials> {
  const [ca, cert, key] = await Promise.all([loadPem(options.ca, 'CA'), loadPem(options.cert, 'certificate'), loadPem(options.key, 'key')]);
  return { ca, cert, key };
}

/** Check the PEM material up front so a bad file fails at setup, not at the first handshake. */
function secureContext(creds: LoadedCredentials): tls.SecureContext {
  try {
    // TLS 1.3 only: its session tickets are sent after the server accepted our certificate,
    // which lets the client tell "accepted" from "rejected" (see watchAcceptance).
    return tls.createSecureContext({ ca: creds.ca, cert: creds.cert, key: creds.key, minVersion: 'TLSv1.3' });
  } catch (err) {
    throw new TransportError('TLS_CONFIG', `invalid TLS certificate, key or CA: ${errorMessage(err)}`, { cause: err });
  }
}

/** The certificate's single common name; several CNs are ambiguous and count as none. */
function commonName(cert: PeerCertificate | undefined): string | undefined {
  const cn: unknown = cert?.subject?.CN;
  return typeof cn === 'string' && cn.length > 0 ? cn : undefined;
}

function describeCert(cert: PeerCertificate | undefined): string {
  if (!cert || Object.keys(cert).length === 0) return 'no certificate';
  // A certificate may carry several CNs.
  const subject = [cert.subject?.CN ?? '?'].flat().join('+');
  const issuer = [cert.issuer?.CN ?? '?'].flat().join('+');
  return `subject CN=${subject}, issuer CN=${issuer}`;
}

/** Our code for a server certificate whose CN is not the `serverCn` asked for. */
const SERVER_CN_MISMATCH = 'ERR_TLS_SERVER_CN_MISMATCH';

/** Checks the server certificate's CN (in place of Node's host name check). */
function serverCnCheck(expected: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const cn = commonName(cert);
    if (cn === expected) return undefined;
    return Object.assign(
      new Error(`its certificate's CN is ${cn === undefined ? 'missing' : JSON.stringify(cn)}, expected server_cn ${JSON.stringify(expected)}`),
      {
        code: SERVER_CN_MISMATCH,
      },
    );
  };
}

/** Certificate verification failures reported by OpenSSL/Node, by error code. */
const SERVER_CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  SERVER_CN_MISMATCH,
]);

function clientSideHandshakeError(target: string, err: Error): TransportError {
  const code = errorCode(err) ?? '';
  if (SERVER_CERT_CODES.has(code)) {
    return new TransportError('TLS_SERVER_CERT', `TLS server ${target} presented a certificate we do not trust: ${err.message} (${code})`, { cause: err });
  }
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') {
    return new TransportError('TLS_CLIENT_CERT', `TLS server ${target} requires a client certificate and we sent none`, { cause: err });
  }
  if (code.startsWith('ERR_SSL_')) {
    return new TransportError('TLS_HANDSHAKE', `TLS handshake with ${target} failed: ${err.message}`, { cause: err });
  }
  return connectFailed(`tls ${target}`, err);
}

/** The server did not confirm our session: after a complete handshake, it rejected our certificate. */
function acceptanceFailures(target: string, ourCert: string): SocketWaitFailures {
  return {
    error: (err) => {
      const code = errorCode(err) ?? '';
      if (code.startsWith('ERR_SSL_TLSV1_ALERT') || code.startsWith('ERR_SSL_SSLV3_ALERT') || code === 'ECONNRESET') {
        return new TransportError('TLS_CLIENT_CERT', `TLS server ${target} rejected our client certificate (${ourCert}): ${err.message}`, { cause: err });
      }
      return clientSideHandshakeError(target, err);
    },
    closed: () =>
      new TransportError(
        'TLS_CLIENT_CERT',
        `TLS server ${target} closed the connection right after the handshake: it rejected our client certificate (${ourCert}); is it signed by the CA the server trusts?`,
      ),
    timedOut: (ms) => new TransportError('TLS_HANDSHAKE', `TLS server ${target} did not confirm the session within ${ms} ms`),
  };
}

/**
 * Resolve once the server has accepted our client certificate. With TLS 1.3 the client's
 * handshake completes before the server has checked our certificate; the server sends its
 * session tickets only after accepting it, and closes (or alerts) when it rejects it. The
 * 'session' listener must be in place before the handshake: the ticket can arrive in the same
 * read as the end of the handshake.
 */
function watchAcceptance(socket: TLSSocket, target: string): (timeoutMs: number, signal?: AbortSignal) => Promise<void> {
  let accepted = false;
  const onEarlySession = (): void => {
    accepted = true;
  };
  socket.once('session', onEarlySession);
  return async (timeoutMs, signal) => {
    socket.off('session', onEarlySession);
    if (!accepted) {
      const ourCert = describeCert(socket.getCertificate() as PeerCertificate | undefined);
      await awaitSocketEvent(socket, 'session', acceptanceFailures(target, ourCert), signal, timeoutMs);
    }
    // 'session' is emitted while OpenSSL is still inside its read loop; writing before it has
    // left that loop (our caller's continuation would) corrupts the record stream ("bad record mac").
    await nextImmediate();
  };
}

/** Mutual-TLS connector: we verify the server against `ca`, the server verifies our `cert`. */
export function tlsConnector(options: TlsConnectOptions): Connector {
  const target = formatHostPort(options.host, options.port);
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  let context: Promise<tls.SecureContext> | undefined;
  return {
    async connect(signal?: AbortSignal): Promise<TransportConnection> {
      context ??= loadCredentials(options).then(secureContext);
      const secureContextForConnect = await context.catch((err: unknown) => {
        context = undefined; // a fixed file may succeed next time
        throw err;
      });
      const connectOptions: tls.ConnectionOptions = {
        host: options.host,
        port: options.port,
        secureContext: secureContextForConnect,
        minVersion: 'TLSv1.3',
      };
      if (options.servername !== undefined) connectOptions.servername = options.servername;
      if (options.serverCn !== undefined) connectOptions.checkServerIdentity = serverCnCheck(options.serverCn);
      const socket = tls.connect(connectOptions);
      const confirmAccepted = watchAcceptance(socket, target);
      const describe = (err: Error): TransportError =>
        errorCode(err) === undefined
          ? new TransportError('TLS_HANDSHAKE', `TLS handshake with ${target} failed: ${err.message}`, { cause: err })
          : clientSideHandshakeError(target, err);
      await awaitSocketReady(socket, 'secureConnect', describe, signal, timeoutMs);
      await confirmAccepted(timeoutMs, signal);
      socket.setNoDelay(true);
      const serverCert = socket.getPeerCertificate();
      const peer: PeerIdentity = {
        transport: 'tls',
        name: commonName(serverCert) ?? target,
        detail: `tls to ${target} (${describeCert(serverCert)})`,
      };
      return socketConnection(socket, peer);
    },
  };
}

/**
 * Mutual-TLS listener: a client must present a certificate signed by `ca`; its CN becomes
 * `peer.name` (the identity used for authorization). Rejected clients never reach
 * `onConnection`; they are reported to `onError` with the reason.
 */
export async function listenTls(options: TlsListenOptions, onConnection: ConnectionHandler): Promise<TlsListener> {
  const creds = await loadCredentials(options);
  secureContext(creds); // fail early, with a clear error, on bad PEM material
  const server = tls.createServer({
    // tls.Server ignores a prepared `secureContext`: it builds its own from these.
    ca: creds.ca,
    cert: creds.cert,
    key: creds.key,
    minVersion: 'TLSv1.3',
    requestCert: true,
    // Verified by hand in 'secureConnection' below: Node's own rejection drops the client
    // without saying why, and we want the reason (and the certificate) in the error.
    rejectUnauthorized: false,
    handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  });
  const listener = await listenOnHostPort(server, options, 'tls');
  const report = (err: TransportError): void => options.onError?.(err);

  server.on('error', (err: Error) => report(new TransportError('CONNECT_FAILED', `tls listener ${listener.address}: ${err.message}`, { cause: err })));
  server.on('connection', (socket: Socket) => listener.track(socket));
  server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
    const from = formatHostPort(socket.remoteAddress, socket.remotePort);
    const code = errorCode(err) ?? '';
    if (code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') {
      report(new TransportError('TLS_CLIENT_CERT', `rejected TLS client ${from}: it sent no client certificate`, { cause: err }));
    } else {
      report(new TransportError('TLS_HANDSHAKE', `TLS handshake with client ${from} failed: ${err.message}`, { cause: err }));
    }
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const from = formatHostPort(socket.remoteAddress, socket.remotePort);
    const cert = socket.getPeerCertificate();
    const cn = commonName(cert);
    if (Object.keys(cert).length === 0) {
      socket.destroy();
      report(new TransportError('TLS_CLIENT_CERT', `rejected TLS client ${from}: it sent no client certificate`));
      return;
    }
    if (!socket.authorized) {
      socket.destroy();
      report(
        new TransportError(
          'TLS_CLIENT_CERT',
          `rejected TLS client ${from}: certificate not trusted (${describeCert(cert)}): ${errorMessage(socket.authorizationError)}`,
        ),
      );
      return;
    }
    if (cn === undefined) {
      socket.destroy();
      report(new TransportError('TLS_CLIENT_CERT', `rejected TLS client ${from}: its certificate has no single common name (CN) to identify it`));
      return;
    }
    socket.setNoDelay(true);
    listener.accept(socket, { transport: 'tls', name: cn, detail: `tls from ${from} (${describeCert(cert)})` }, onConnection, options.onError);
  });
  return listener;
}
