/**
 * The stream a `send` call answers with. `zfs send` starts when the stream is first read; a
 * same-host receiver may instead start it writing straight into its `zfs recv` (see
 * directSendOf), and then nothing passes through this object. A failed send ends the stream
 * with its error, never with a clean end; a consumer that lets go early aborts the send.
 */

import { Readable, type Writable } from 'node:stream';
import type { Logger } from 'pino';
import { offerDirectSend, type DirectSendProcess, type SendProcess } from '../zfs/index.js';

export interface SendStarters {
  /** Start with the output piped to this process. */
  piped(): SendProcess;
  /** Start with the output going straight into `sink`. */
  into(sink: Writable): DirectSendProcess;
}

const HIGH_WATER_MARK = 1024 * 1024;

export function createSendStream(start: SendStarters, logger: Logger, command: string): Readable {
  let running: SendProcess | DirectSendProcess | undefined;
  let piped: SendProcess | undefined;
  let finished = false;

  const fail = (error: unknown): void => {
    finished = true;
    out.destroy(error instanceof Error ? error : new Error(String(error)));
  };

  const out = new Readable({
    highWaterMark: HIGH_WATER_MARK,
    read() {
      if (piped) {
        piped.stream.resume();
        return;
      }
      if (running) return;
      piped = start.piped();
      running = piped;
      const source = piped.stream;
      const done = piped.done;
      source.on('data', (chunk: Buffer) => {
        if (!out.push(chunk)) source.pause();
      });
      source.once('end', () => {
        done.then(() => {
          finished = true;
          out.push(null);
        }, fail);
      });
      source.on('error', fail);
      // It can fail before any byte flowed (a bad snapshot): surface that now.
      done.catch((error: unknown) => {
        if (!source.readableEnded) fail(error);
      });
    },
    destroy(error, callback) {
      if (running && !finished) {
        logger.debug({ command }, 'send stream closed early: aborting zfs send');
        running.abort(new Error('send stream closed by the consumer'));
      }
      callback(error);
    },
  });

  offerDirectSend(out, () =>
    running
      ? undefined
      : {
          startInto(sink) {
            const direct = start.into(sink);
            running = direct;
            direct.done.then(
              () => (finished = true),
              () => (finished = true),
            );
            return direct;
          },
        },
  );
  return out;
}
