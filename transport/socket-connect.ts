import type { Socket } from 'node:net';
import { TransportError, errorMessage, errorCode } from './errors.js';

/**
 * Wait until `socket` emits `readyEvent`; an error, an early close, an abort or the timeout
 * rejects with a TransportError (the socket is destroyed). `describe` turns the raw error (or
 * a timeout/close, as a plain Error) into one for people.
 */
export function awaitSocketReady(
  socket: Socket,
  readyEvent: 'connect' | 'secureConnect',
  describe: (err: Error) => TransportError,
  signal?: AbortSignal,
  timeoutMs?: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off(readyEvent, onReady);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: TransportError): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => fail(describe(err));
    const onClose = (): void => fail(describe(new Error('connection closed before it was established')));
    const onAbort = (): void => fail(new TransportError('ABORTED', 'connect aborted', { cause: signal?.reason }));
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => fail(describe(new Error(`timed out after ${timeoutMs} ms`))), timeoutMs);
    if (signal?.aborted) {
      onAbort();
      return;
    }
    socket.once(readyEvent, onReady);
    socket.once('error', onError);
    socket.once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A CONNECT_FAILED error naming the target and the system error code. */
export function connectFailed(target: string, err: Error): TransportError {
  const code = errorCode(err);
  const hint =
    code === 'ECONNREFUSED' ? ' (nothing is listening there)'
    : code === 'ENOENT' ? ' (no such socket file)'
    : code === 'EACCES' ? ' (permission denied)'
    : '';
  return new TransportError('CONNECT_FAILED', `cannot connect to ${target}: ${errorMessage(err)}${hint}`, { cause: err });
}
