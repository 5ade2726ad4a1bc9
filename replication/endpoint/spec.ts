/**
 * Where one side of a job lives, as the job names it: the CLI builds a spec from a location
 * (`pool/fs`, `[user@]host:pool/fs`, `ssh://…`), a daemon job from its YAML. open.ts turns a
 * spec into an endpoint client; identity.ts names it as a replication destination.
 */

/** A dataset on this host: the endpoint runs in this process (LocalRPC). */
export interface LocalEndpointSpec {
  kind: 'local';
  dataset: string;
  /**
   * Confine the endpoint to these datasets and what lies below them, as `zferry serve --root`
   * does: a daemon's sink (`root_fs/<client>`) or source (its filter's roots) served in-process.
   */
  roots?: readonly string[];
}

/** A dataset on a host reached through the system ssh client running `zferry serve --stdio` there. */
export interface SshEndpointSpec {
  kind: 'ssh';
  host: string;
  /** Unset: what ssh decides (ssh_config, else the local user name). */
  user?: string;
  /** Unset: what ssh decides (ssh_config, else 22). */
  port?: number;
  identityFile?: string;
  /** `ssh -F`: read this file instead of ~/.ssh/config and the system-wide ssh_config. */
  configFile?: string;
  /** Extra `ssh -o Key=value` options. */
  options: readonly string[];
  /** What runs on the remote host (an argument vector). */
  remoteCommand: readonly string[];
  dataset: string;
}

/*
 * Sides reached over a socket, served by another daemon's `sink` or `source` job listening with
 * `serve: {type: tcp}` or `{type: tls}` (daemon/serving). The server decides where the client
 * lands (`root_fs/<identity>`, or a source's filter): `dataset` is a dataset as the server sees
 * it, and the `session` call tells the client its roots.
 */

export interface TcpEndpointSpec {
  kind: 'tcp';
  host: string;
  port: number;
  dataset: string;
  /** How long connecting may take; default 10 s. */
  dialTimeoutMs?: number;
}

export interface TlsEndpointSpec {
  kind: 'tls';
  host: string;
  port: number;
  /** PEM files: the CA that signed the server, and this client's certificate and key. */
  ca: string;
  cert: string;
  key: string;
  /** The CN the server's certificate must carry (zrepl's `server_cn`), whatever address it was reached at. */
  serverName: string;
  dataset: string;
  /** How long connecting may take; default 10 s. */
  dialTimeoutMs?: number;
  /** How long the TLS handshake (and the server's acceptance of our certificate) may take; default 10 s. */
  handshakeTimeoutMs?: number;
}

export interface UnixEndpointSpec {
  kind: 'unix';
  path: string;
  dataset: string;
}

export type EndpointSpec = LocalEndpointSpec | SshEndpointSpec | TcpEndpointSpec | TlsEndpointSpec | UnixEndpointSpec;

export type EndpointKind = EndpointSpec['kind'];

/** How long connecting to a tcp or tls side may take unless told otherwise (zrepl's `dial_timeout`). */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;

/** What push/pull run on the remote host through ssh unless told otherwise. */
export const DEFAULT_REMOTE_COMMAND: readonly string[] = ['zferry', 'serve', '--stdio'];
