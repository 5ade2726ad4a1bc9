/** Small helpers shared by the RPC tests. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Poll until `predicate` holds. The bound only keeps a broken test from hanging; tests assert
 * what happened, never how long it took.
 */
export async function waitFor(predicate: () => boolean, what: string, boundMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + boundMs;
  while (!predicate()) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for: ${what}`);
    await sleep(2);
  }
}

export async function digestStream(stream: Readable): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** The error a stream ends with (rejects if it ends cleanly). */
export function streamError(stream: Readable): Promise<Error> {
  return new Promise<Error>((resolve, reject) => {
    stream.on('error', resolve);
    stream.on('end', () => reject(new Error('stream ended cleanly')));
    stream.resume();
  });
}
