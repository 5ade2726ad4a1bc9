/**
 * Why a transport could not connect, or why an established connection ended badly.
 * `code` is stable and meant for programs; `message` is meant for people (it carries the
 * detail a user needs, e.g. ssh's stderr and exit code).
 */

import { ZferryError } from '../platform/errors.js';

/** Read anything thrown (defined in platform/errors.ts): the transport modules take them from here. */
export { errorCode, errorMessage } from '../platform/errors.js';

export type TransportErrorCode =
  /** A caller-supplied value (host, user, path, option) was refused before use. */
  | 'INVALID_ARGUMENT'
  /** The address could not be reached (refused, unreachable, no such socket file). */
  | 'CONNECT_FAILED'
  /** Binding a listener failed (address in use, permission, socket path too long). */
  | 'LISTEN_FAILED'
  /** The TLS handshake failed for a reason other than the client certificate. */
  | 'TLS_HANDSHAKE'
  /** A TLS client certificate was missing or not signed by the expected CA. */
  | 'TLS_CLIENT_CERT'
  /** The TLS server's certificate did not verify against our CA or name. */
  | 'TLS_SERVER_CERT'
  /** A certificate, key or CA file could not be read. */
  | 'TLS_CONFIG'
  /** The child process (or ssh) could not be started at all. */
  | 'SPAWN_FAILED'
  /** A child process used as a transport exited unsuccessfully. */
  | 'CHILD_FAILED'
  /** ssh could not reach the host (refused, timeout, DNS, host key). */
  | 'SSH_CONNECT'
  /** ssh reached the host but authentication failed. */
  | 'SSH_AUTH'
  /** The remote command exited non-zero (not found, crashed, refused us). */
  | 'SSH_REMOTE_COMMAND'
  /** ssh failed in a way not classified above. */
  | 'SSH_FAILED'
  /** The connection was aborted through an AbortSignal. */
  | 'ABORTED';

export class TransportError extends ZferryError {
  declare readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
