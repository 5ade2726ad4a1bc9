/**
 * Ending a zfs stream the way a shell pipeline does, on zfs-fuse too.
 *
 * The zfs-fuse client hands its stdin/stdout to the daemon, which does the reading and
 * writing: killing the client does not stop a transfer, and a killed `zfs send -I` leaves its
 * `.send-<pid>-0` hold on every snapshot of the stream. What stops a send cleanly is its
 * reader going away: the daemon's write fails with EPIPE, the client reports "Broken pipe",
 * releases its holds and exits. But a reader that closes a *socket* with unread data in it
 * resets the connection instead, and the client dies of SIGABRT on ECONNRESET, holds and all.
 *
 * So a send's output socket is first shut down, then closed: shutdown() acts on the socket
 * itself, for every process holding it, so the daemon writing gets EPIPE however many copies
 * exist, and the one reading (a same-host `zfs recv`) sees the stream end early and discards
 * the partial receive. Node cannot shut down the reading side of a socket (or make a socket
 * pair), so a one-line perl helper that inherits the descriptor does it (see kernel-buffers.ts).
 */

import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runOnDescriptor } from '../../platform/kernel-buffers.js';

/** SHUT_RDWR: neither side may write or read any more. */
const SHUT_RDWR = 2;

/** The descriptor behind a node socket or child stdio stream, if it has one. */
export function descriptorOf(stream: object | null | undefined): number | undefined {
  const fd = (stream as { _handle?: { fd?: unknown } } | null | undefined)?._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * Shuts the socket behind `stream` down for every process holding it. Resolves true when done,
 * false when it could not be (no descriptor, not a socket, no perl); never rejects.
 */
export function shutDownSocket(stream: object | null | undefined, perl = 'perl'): Promise<boolean> {
  const fd = descriptorOf(stream);
  if (fd === undefined || process.platform !== 'linux') return Promise.resolve(false);
  return runOnDescriptor(fd, `shutdown(STDIN, ${SHUT_RDWR}) or exit 1`, perl);
}

/** Two connected unix stream sockets, both ends in this process and neither read by it. */
export interface ConnectedSockets {
  /** Give it to the writer (`zfs send`'s stdout), then close it here. */
  writer: net.Socket;
  /** Give it to the reader (`zfs recv`'s stdin); keep it to shut the connection down. */
  reader: net.Socket;
}

/**
 * A same-host `zfs send` → `zfs recv` connection that this process can shut down, the kernel
 * moving the bytes as in `zfs send | zfs recv`. Node has no socketpair(): the pair comes from a
 * listener in a fresh private directory (mode 0700: only this user can connect), gone again
 * before this resolves. The reader's end is never read here (`pauseOnConnect`).
 */
export async function connectedSockets(): Promise<ConnectedSockets> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-'));
  const server = net.createServer({ pauseOnConnect: true });
  try {
    const address = path.join(dir, 'stream');
    server.listen(address);
    await once(server, 'listening');
    const writer = net.connect(address);
    // Nothing ever flows towards the writer; not reading keeps it that way.
    writer.pause();
    const [[reader]] = (await Promise.all([once(server, 'connection'), once(writer, 'connect')])) as [[net.Socket], unknown[]];
    return { writer, reader };
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
