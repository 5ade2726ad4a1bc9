import { Duplex } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { errorCode } from './errors.js';

export interface JoinedDuplexOptions {
  /**
   * Decides how the connection ends once the peer is gone (EOF on the readable side, or
   * EPIPE on the writable side): resolve to an Error to fail the stream with it (e.g. the
   * child process exited non-zero), or to undefined for a clean end. Default: clean end.
   */
  settle?: () => Promise<Error | undefined>;
  /** Runs once when the duplex is destroyed (close or error), e.g. to stop a child process. */
  onDestroy?: () => void;
}

/** Write errors meaning the reader went away: the connection ended, nothing to report. */
const PEER_GONE_CODES = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);

/**
 * One Duplex over a separate Readable and Writable (stdin/stdout of this process or of a
 * child). Backpressure passes through both ways: a full read buffer pauses the source, and a
 * write completes only when the sink accepts more (write() returned true, or after 'drain').
 */
export class JoinedDuplex extends Duplex {
  readonly #source: Readable;
  readonly #sink: Writable;
  readonly #options: JoinedDuplexOptions;
  #reading = false;
  #pendingWrite: ((err?: Error | null) => void) | undefined;

  constructor(source: Readable, sink: Writable, options: JoinedDuplexOptions = {}) {
    super({ allowHalfOpen: true });
    this.#source = source;
    this.#sink = sink;
    this.#options = options;
    source.on('end', this.#onSourceEnd);
    source.on('error', this.#onSourceError);
    sink.on('drain', this.#onDrain);
    sink.on('error', this.#onSinkError);
  }

  override _read(): void {
    if (!this.#reading) {
      this.#reading = true;
      this.#source.on('data', this.#onData);
    }
    this.#source.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.#sink.write(chunk)) callback();
    else this.#pendingWrite = callback;
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    // Keep a corked batch (e.g. frame header + payload) together for one writev() below.
    this.#sink.cork();
    let ok = true;
    for (const { chunk } of chunks) ok = this.#sink.write(chunk);
    this.#sink.uncork();
    if (ok) callback();
    else this.#pendingWrite = callback;
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#sink.end(() => callback());
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#source.off('data', this.#onData);
    this.#source.off('end', this.#onSourceEnd);
    this.#source.off('error', this.#onSourceError);
    this.#sink.off('drain', this.#onDrain);
    // The sink keeps an error listener: a late EPIPE must not become an uncaught exception.
    this.#sink.off('error', this.#onSinkError);
    this.#sink.on('error', ignoreError);
    this.#source.on('error', ignoreError);
    this.#source.destroy();
    if (!this.#sink.writableEnded) this.#sink.end();
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    pending?.();
    this.#options.onDestroy?.();
    callback(err);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (!this.push(chunk)) this.#source.pause();
  };

  readonly #onDrain = (): void => {
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    pending?.();
  };

  readonly #onSourceEnd = (): void => {
    void this.#settle((err) => {
      if (err) this.destroy(err);
      else this.push(null);
    });
  };

  readonly #onSourceError = (err: Error): void => {
    this.destroy(err);
  };

  readonly #onSinkError = (err: Error): void => {
    if (!PEER_GONE_CODES.has(errorCode(err) ?? '')) {
      this.destroy(err);
      return;
    }
    void this.#settle((settled) => this.destroy(settled ?? undefined));
  };

  async #settle(then: (err: Error | undefined) => void): Promise<void> {
    const settle = this.#options.settle;
    const err = settle ? await settle().catch((failure: unknown) => (failure instanceof Error ? failure : new Error(String(failure)))) : undefined;
    if (!this.destroyed) then(err);
  }
}

function ignoreError(): void {}
