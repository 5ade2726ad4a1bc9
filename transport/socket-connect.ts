import type { Socket } from 'node:net';
import { TransportError, errorMessage, errorCode } from './errors.js';

/** What a failed wait for a socket event rejects with, in words for people. */
export interface SocketWaitFailures {
  error(err: Error): TransportError;
  closed(): TransportError;
  timedOut(timeoutMs: number): TransportError;
}

/**
 * Wait until `socket` emits `event`; an error, a close, an abort or the timeout rejects with
 * the TransportError `failures` makes of it (an abort: ABORTED), and destroys the socket.
 */
export function awaitSocketEvent(socket: Socket, event: string, failures: SocketWaitFailures, signal?: AbortSignal, timeoutMs?: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off(event, onEvent);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: TransportError): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onEvent = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => fail(failures.error(err));
    const onClose = (): void => fail(failures.closed());
    const onAbort = (): void => fail(new TransportError('ABORTED', 'connect aborted', { cause: signal?.reason }));
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => fail(failures.timedOut(timeoutMs)), timeoutMs);
    if (signal?.aborted) {
      onAbort();
      return;
    }
    socket.once(event, onEvent);
    socket.once('error', onError);
    socket.once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Wait until `socket` is connected (`readyEvent`). `describe` turns the raw error (or a
 * timeout/close, as a plain Error) into a TransportError for people.
 */
export function awaitSocketReady(
  socket: Socket,
  readyEvent: 'connect' | 'secureConnect',
  describe: (err: Error) => TransportError,
  signal?: AbortSignal,
  timeoutMs?: number,
): Promise<void> {
  const failures: SocketWaitFailures = {
    error: describe,
    closed: () => describe(new Error('connection closed before it was established')),
    timedOut: (ms) => describe(new Error(`timed out after ${ms} ms`)),
  };
  return awaitSocketEvent(socket, readyEvent, failures, signal, timeoutMs);
}

/** A CONNECT_FAILED error naming the target and the system error code. */
export function connectFailed(target: string, err: Error): TransportError {
  const code = errorCode(err);
  const hint =
    code === 'ECONNREFUSED' ? ' (nothing is listening there)' : code === 'ENOENT' ? ' (no such socket file)' : code === 'EACCES' ? ' (permission denied)' : '';
  return new TransportError('CONNECT_FAILED', `cannot connect to ${target}: ${errorMessage(err)}${hint}`, { cause: err });
}
