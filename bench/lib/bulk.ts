/** Bulk data for throughput runs: one 1 MiB buffer, written again and again. */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import type { Writable } from 'node:stream';

export const BLOCK_SIZE = 1024 * 1024;

/** Incompressible, so no layer can cheat; shared between writes (never modified). */
export const BLOCK = randomBytes(BLOCK_SIZE);

/** Write `total` bytes honouring backpressure, then end and wait until flushed. */
export async function writeBulk(sink: Writable, total: number): Promise<void> {
  let sent = 0;
  while (sent < total) {
    const size = Math.min(BLOCK_SIZE, total - sent);
    const ok = sink.write(size === BLOCK_SIZE ? BLOCK : BLOCK.subarray(0, size));
    sent += size;
    if (!ok) await once(sink, 'drain');
  }
  sink.end();
  await once(sink, 'finish');
}

/** A Readable of `total` bytes (Infinity: until stop()), for request streams. */
export class BulkSource extends Readable {
  #remaining: number;

  constructor(total: number) {
    super({ highWaterMark: BLOCK_SIZE });
    this.#remaining = total;
  }

  stop(): void {
    this.#remaining = 0;
  }

  override _read(): void {
    if (this.#remaining <= 0) {
      this.push(null);
      return;
    }
    const size = Math.min(BLOCK_SIZE, this.#remaining);
    this.#remaining -= size;
    this.push(size === BLOCK_SIZE ? BLOCK : BLOCK.subarray(0, size));
  }
}

/** Count bytes until the end of `source`. */
export function countBytes(source: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    source.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    source.once('end', () => resolve(bytes));
    source.once('error', reject);
  });
}
