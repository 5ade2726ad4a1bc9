/** Small helpers for the byte streams calls carry. */
import type { Readable } from 'node:stream';

export function isReadable(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && typeof (value as Readable).on === 'function' && typeof (value as Readable).pipe === 'function';
}

/**
 * Destroy a stream we no longer want (pipeline semantics: a call that fails destroys its
 * request stream). No error is passed, so an owner without an 'error' listener is not crashed;
 * a late error from the stream is ignored.
 */
export function destroyQuietly(stream: Readable | undefined): void {
  if (stream === undefined || !isReadable(stream) || stream.destroyed || stream.readableEnded) return;
  stream.on('error', ignore);
  stream.destroy();
}

function ignore(): void {}
