/**
 * Same-host jobs: a send stream that has not started yet can offer to write straight into the
 * receiving `zfs recv`'s stdin, so that no byte passes through this process (the kernel moves
 * them, as in `zfs send | zfs recv`). The receiver asks the stream through this symbol.
 */

import type { Readable, Writable } from 'node:stream';
import type { DirectSendProcess } from './send.js';

const DIRECT_SEND = Symbol.for('zferry.directSend');

export interface DirectSendSource {
  /** Starts `zfs send` with `sink` as its stdout; the stream itself then carries nothing. */
  startInto(sink: Writable): DirectSendProcess;
}

export interface DirectSendCapable {
  [DIRECT_SEND]?: () => DirectSendSource | undefined;
}

/** The direct route a stream offers, if it still can (nothing read from it yet). */
export function directSendOf(stream: Readable): DirectSendSource | undefined {
  return (stream as Readable & DirectSendCapable)[DIRECT_SEND]?.();
}

export function offerDirectSend(stream: Readable, offer: () => DirectSendSource | undefined): void {
  (stream as Readable & DirectSendCapable)[DIRECT_SEND] = offer;
}

/**
 * Size of the stream from `zfs recv -v` ("received 3.39MB stream in 1 seconds", OpenZFS
 * "received 3.39M stream in 0.12 seconds"): rounded to three digits by zfs, so approximate.
 */
export function parseReceivedBytes(stdout: string): number | undefined {
  const match = /received ([0-9]+(?:\.[0-9]+)?)([KMGTPE]?)B? stream/.exec(stdout);
  if (!match) return undefined;
  const exponent = ' KMGTPE'.indexOf(match[2] || ' ');
  return Math.round(Number(match[1]) * 1024 ** exponent);
}
