/**
 * Pumps a source Readable into DATA frames. Chunks are taken as the source emits them and
 * written as header + the same Buffers (subarrays when a chunk straddles a frame boundary), so
 * payload bytes are never copied. Chunks that arrive in the same tick, or while the transport
 * is full, are gathered into one frame of up to the frame limit. The source is paused when no
 * credit is left or the transport asks to wait, which carries backpressure to the producer.
 */
import type { Readable } from 'node:stream';

export interface SenderHost {
  /** DATA credit left (the smaller of stream and connection windows). */
  credit(): number;
  /** Largest DATA payload to put in one frame. */
  readonly maxFrame: number;
  /** Write one DATA frame; false means the transport wants us to wait (see whenWritable). */
  writeData(chunks: readonly Buffer[], length: number): boolean;
  writerBlocked(): boolean;
  whenWritable(callback: () => void): void;
  /** The source ended and everything was written. */
  finished(): void;
  /** The source failed or closed before its end. */
  failed(error: Error): void;
}

/** The most bytes taken from the source and not yet written: about one full frame. */
const MAX_QUEUED_BYTES = 1024 * 1024;

export class StreamSender {
  readonly #source: Readable;
  readonly #host: SenderHost;
  #queue: Buffer[] = [];
  #queued = 0;
  #ended = false;
  #done = false;
  #pausedByUs = false;
  #pumpScheduled = false;
  #waitingDrain = false;
  bytesSent = 0;

  constructor(source: Readable, host: SenderHost) {
    this.#source = source;
    this.#host = host;
  }

  start(): void {
    const source = this.#source;
    source.on('data', this.#onData);
    source.on('end', this.#onEnd);
    source.on('error', this.#onError);
    source.on('close', this.#onClose);
    if (source.readableEnded) this.#onEnd();
    else if (source.destroyed) this.#onClose();
    else source.resume();
  }

  /** Credit arrived: try again. */
  wake(): void {
    if (!this.#done) this.#schedule();
  }

  /** Stop reading the source (its fate is the caller's decision). */
  stop(): void {
    if (this.#done) return;
    this.#done = true;
    this.#detach();
    this.#queue = [];
    this.#queued = 0;
  }

  #detach(): void {
    const source = this.#source;
    source.off('data', this.#onData);
    source.off('end', this.#onEnd);
    source.off('close', this.#onClose);
    source.off('error', this.#onError);
    // A source we let go of before its end may still fail; that must not crash the process.
    if (!source.readableEnded) source.on('error', ignore);
  }

  readonly #onData = (chunk: unknown): void => {
    if (this.#done) return;
    let buffer: Buffer;
    if (Buffer.isBuffer(chunk)) buffer = chunk;
    else if (typeof chunk === 'string') buffer = Buffer.from(chunk, 'utf8');
    else if (chunk instanceof Uint8Array) buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else {
      this.#fail(new TypeError('byte stream source emitted a non-binary chunk'));
      return;
    }
    if (buffer.length === 0) return;
    this.#queue.push(buffer);
    this.#queued += buffer.length;
    if (this.#queued >= MAX_QUEUED_BYTES && !this.#pausedByUs) {
      this.#pausedByUs = true;
      this.#source.pause();
    }
    this.#schedule();
  };

  readonly #onEnd = (): void => {
    if (this.#done) return;
    this.#ended = true;
    this.#schedule();
  };

  readonly #onError = (error: Error): void => {
    this.#fail(error);
  };

  readonly #onClose = (): void => {
    if (this.#done || this.#ended) return;
    // 'close' without 'end': destroyed before the end (an error, if any, came first).
    const error = (this.#source as { errored?: Error | null }).errored;
    this.#fail(error ?? new Error('byte stream source was closed before its end'));
  };

  #fail(error: Error): void {
    if (this.#done) return;
    this.stop();
    this.#host.failed(error);
  }

  #schedule(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    process.nextTick(this.#pump);
  }

  readonly #pump = (): void => {
    this.#pumpScheduled = false;
    if (this.#done) return;
    const host = this.#host;
    while (this.#queued > 0) {
      if (host.writerBlocked()) {
        if (!this.#waitingDrain) {
          this.#waitingDrain = true;
          host.whenWritable(this.#onWritable);
        }
        break;
      }
      const credit = host.credit();
      if (credit <= 0) break; // wake() comes with the next WINDOW
      const length = Math.min(this.#queued, credit, host.maxFrame);
      const chunks = this.#take(length);
      this.bytesSent += length;
      host.writeData(chunks, length);
      if (this.#done) return;
    }
    if (this.#pausedByUs && this.#queued < MAX_QUEUED_BYTES && !this.#ended) {
      this.#pausedByUs = false;
      this.#source.resume();
    }
    if (this.#queued === 0 && this.#ended) {
      this.#done = true;
      this.#detach();
      host.finished();
    }
  };

  readonly #onWritable = (): void => {
    this.#waitingDrain = false;
    this.#schedule();
  };

  /** Take `length` bytes off the queue, splitting the last chunk with subarray. */
  #take(length: number): Buffer[] {
    const taken: Buffer[] = [];
    let need = length;
    while (need > 0) {
      const head = this.#queue[0] as Buffer;
      if (head.length <= need) {
        taken.push(head);
        this.#queue.shift();
        need -= head.length;
      } else {
        taken.push(head.subarray(0, need));
        this.#queue[0] = head.subarray(need);
        need = 0;
      }
    }
    this.#queued -= length;
    return taken;
  }
}

function ignore(): void {}
