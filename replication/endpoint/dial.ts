/**
 * Connecting to a side served over tcp or mutual TLS (spec.ts), within the dial timeout: the
 * transport connection the framed RPC then runs on. Loaded only for such a side.
 */
import { tcpConnector } from '../../transport/tcp.js';
import { tlsConnector } from '../../transport/tls.js';
import { formatHostPort } from '../../transport/socket-listener.js';
import type { TransportConnection } from '../../transport/types.js';
import { DialTimeoutError } from './errors.js';
import { DEFAULT_DIAL_TIMEOUT_MS, type TcpEndpointSpec, type TlsEndpointSpec } from './spec.js';

export async function dialed(spec: TcpEndpointSpec | TlsEndpointSpec): Promise<TransportConnection> {
  const dialTimeoutMs = spec.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
  const connector =
    spec.kind === 'tcp'
      ? tcpConnector({ host: spec.host, port: spec.port })
      : tlsConnector({
          host: spec.host,
          port: spec.port,
          ca: spec.ca,
          cert: spec.cert,
          key: spec.key,
          // The server is known by its certificate's CN, not by the address it was reached at.
          servername: spec.serverName,
          serverCn: spec.serverName,
          handshakeTimeoutMs: spec.handshakeTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
        });
  // The dial timeout covers reaching the server; the handshake has its own (tls.ts).
  const timeout = AbortSignal.timeout(dialTimeoutMs + (spec.kind === 'tls' ? (spec.handshakeTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS) : 0));
  try {
    return await connector.connect(timeout);
  } catch (error) {
    if (timeout.aborted) throw new DialTimeoutError(`${spec.kind} ${formatHostPort(spec.host, spec.port)}`, dialTimeoutMs, error);
    throw error;
  }
}
