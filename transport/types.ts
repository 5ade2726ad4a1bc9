import type { Duplex } from 'node:stream';

/** Who is on the other end of a connection, as the transport established it. */
export interface PeerIdentity {
  transport: 'tcp' | 'tls' | 'unix' | 'stdio' | 'ssh' | 'local' | 'pipe';
  /**
   * A stable name for authorization: the client certificate's CN for TLS, `user@host` for
   * SSH, the remote address for TCP, the socket path for unix, `stdio` for stdio.
   */
  name: string;
  /** Human-readable detail for logs (addresses, ports, certificate subject). */
  detail?: string;
}

/** A connected byte stream plus who is on the other end. */
export interface TransportConnection {
  stream: Duplex;
  peer: PeerIdentity;
  /** Tear the connection down (kills a child process for ssh). Idempotent. */
  close(): void;
}

/** Opens client connections. */
export interface Connector {
  connect(signal?: AbortSignal): Promise<TransportConnection>;
}

/** Accepts server connections until closed. */
export interface Listener {
  /** Resolves once the listener is bound (the actual address is then available). */
  readonly address: string;
  close(): Promise<void>;
}

export type ConnectionHandler = (connection: TransportConnection) => void;
