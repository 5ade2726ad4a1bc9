/**
 * Sends a call's byte stream on its mux stream, the same way on both sides of a call (request
 * stream, response stream): DATA frames within credit (stream-sender.ts), then the OK trailer
 * once the source ended, or an error trailer (RPC_STREAM_SOURCE, with the source's message)
 * when it failed, so the peer learns it was the source and not the connection.
 */
import type { Readable } from 'node:stream';
import { errorMessage } from './errors.js';
import type { Multiplexer } from './mux.js';
import type { RpcStream } from './stream.js';
import { StreamSender } from './stream-sender.js';
import type { SenderHost } from './stream-sender.js';
import { TRAILER_OK_BYTES, encodeWithError } from './wire.js';
import type { TrailerHeaders, WireError } from './wire.js';

/** What the call that sends the byte stream hears of it. */
export interface ByteStreamOwner {
  /** The source failed with `error`; called before the error trailer carrying `message` goes out. */
  sourceFailed(message: string, error: Error): void;
  /** Our half of the stream is complete: its trailer (OK or error) went out. */
  trailerSent(): void;
}

/** Start sending `source` on `stream`; the returned sender is woken by credit and stopped by the call. */
export function sendByteStream(mux: Multiplexer, stream: RpcStream, source: Readable, owner: ByteStreamOwner): StreamSender {
  mux.setSending(stream, true);
  const sender = new StreamSender(source, new MuxSenderHost(mux, stream, owner));
  sender.start();
  return sender;
}

function failedTrailer(error: WireError): TrailerHeaders {
  return { kind: 'trailer', ok: false, error };
}

/** The sender's view of one mux stream. */
class MuxSenderHost implements SenderHost {
  readonly #mux: Multiplexer;
  readonly #stream: RpcStream;
  readonly #owner: ByteStreamOwner;

  constructor(mux: Multiplexer, stream: RpcStream, owner: ByteStreamOwner) {
    this.#mux = mux;
    this.#stream = stream;
    this.#owner = owner;
  }

  credit(): number {
    return this.#mux.credit(this.#stream);
  }

  get maxFrame(): number {
    return this.#mux.maxDataFrame;
  }

  writeData(chunks: readonly Buffer[], length: number): boolean {
    return this.#mux.sendData(this.#stream, chunks, length);
  }

  writerBlocked(): boolean {
    return this.#mux.writerBlocked;
  }

  whenWritable(callback: () => void): void {
    this.#mux.whenWritable(callback);
  }

  finished(): void {
    this.#mux.sendHeaders(this.#stream, TRAILER_OK_BYTES, true);
    this.#owner.trailerSent();
  }

  failed(error: Error): void {
    const message = errorMessage(error);
    this.#owner.sourceFailed(message, error);
    const wire: WireError = { code: 'RPC_STREAM_SOURCE', message };
    this.#mux.sendHeaders(this.#stream, encodeWithError(failedTrailer, wire, this.#mux.headerLimit), true);
    this.#owner.trailerSent();
  }
}
