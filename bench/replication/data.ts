/**
 * Random (incompressible) file contents written into mounted source filesystems, so every
 * tool moves the same real bytes and compression cannot flatter anyone.
 */

import { randomFillSync } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';

const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Writes `bytes` random bytes at `offset` of `file` (created when missing, never truncated),
 * then fsyncs, so a snapshot taken afterwards holds them.
 */
export async function writeRandom(file: string, bytes: number, offset = 0): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // Read-write, created when missing, never truncated: an overwrite changes only its range.
  const handle = await open(file, constants.O_RDWR | constants.O_CREAT);
  try {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(bytes, 1)));
    for (let done = 0; done < bytes;) {
      const size = Math.min(buffer.length, bytes - done);
      randomFillSync(buffer, 0, size);
      let written = 0;
      while (written < size) {
        const { bytesWritten } = await handle.write(buffer, written, size - written, offset + done + written);
        written += bytesWritten;
      }
      done += size;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
