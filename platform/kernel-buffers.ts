/**
 * Larger kernel buffers for the descriptors bulk streams pass through.
 *
 * - A pipe we were given (`zferry serve --stdio`'s stdin and stdout, which sshd connects with
 *   pipes) holds 64 KiB by default, so a bulk stream arrives in 64 KiB reads with a wakeup each;
 *   with 1 MiB, reads are larger and far fewer.
 * - The unix socket pair between a same-host `zfs send` and `zfs recv` (see
 *   replication/zfs/socket-pair.ts) moves a full stream on zfs-fuse faster with a 4 MiB send
 *   buffer.
 *
 * Node has neither fcntl() nor setsockopt() for these. Both sizes belong to the pipe or socket,
 * not to the descriptor, so a short helper that inherits the descriptor can set them: one line
 * of perl (part of every Debian and Ubuntu base system). Where perl, Linux or the permission is
 * missing nothing changes. Figures: docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { fstatSync } from 'node:fs';

/** F_SETPIPE_SZ on Linux (F_LINUX_SPECIFIC_BASE + 7). */
const F_SETPIPE_SZ = 1031;
/** SOL_SOCKET, SO_SNDBUF and SO_SNDBUFFORCE (root: beyond net.core.wmem_max) on Linux. */
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_SNDBUFFORCE = 32;
/** What an unprivileged process may ask for by default (/proc/sys/fs/pipe-max-size). */
export const DEFAULT_PIPE_BYTES = 1024 * 1024;
/** Asked for a socket's send buffer (the kernel doubles it for bookkeeping). */
export const DEFAULT_SOCKET_SEND_BYTES = 4 * 1024 * 1024;

function kindOf(fd: number): 'pipe' | 'socket' | undefined {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() ? 'pipe' : stat.isSocket() ? 'socket' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `code` in perl with `fd` as its STDIN; true when it exits 0. Never rejects. The helper
 * has its own copy of `fd` once this returns, so the caller may close its copy at once.
 */
export function runOnDescriptor(fd: number, code: string, perl = 'perl'): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const helper = spawn(perl, ['-e', code], { stdio: [fd, 'ignore', 'ignore'] });
      helper.once('error', () => resolve(false));
      helper.once('exit', (status) => resolve(status === 0));
    } catch {
      resolve(false);
    }
  });
}

/**
 * Asks for `bytes` of buffer on the pipe at `fd`. Resolves true when the kernel granted it,
 * false when `fd` is not a pipe or it could not be done (never rejects).
 */
export function enlargePipe(fd: number, bytes = DEFAULT_PIPE_BYTES, perl = 'perl'): Promise<boolean> {
  if (process.platform !== 'linux' || !Number.isInteger(bytes) || bytes <= 0 || kindOf(fd) !== 'pipe') return Promise.resolve(false);
  return runOnDescriptor(fd, `fcntl(STDIN, ${F_SETPIPE_SZ}, ${bytes}) or exit 1`, perl);
}

/**
 * Asks for `bytes` of send buffer on the socket at `fd` (SO_SNDBUFFORCE, else SO_SNDBUF within
 * the system's limit). The helper takes its own copy of `fd` before this returns, so the caller
 * may close its copy at once. Resolves true when granted, false otherwise (never rejects).
 */
export function enlargeSocketSendBuffer(fd: number, bytes = DEFAULT_SOCKET_SEND_BYTES, perl = 'perl'): Promise<boolean> {
  if (process.platform !== 'linux' || !Number.isInteger(bytes) || bytes <= 0 || kindOf(fd) !== 'socket') return Promise.resolve(false);
  const size = `pack("i", ${bytes})`;
  return runOnDescriptor(
    fd,
    `setsockopt(STDIN, ${SOL_SOCKET}, ${SO_SNDBUFFORCE}, ${size}) or setsockopt(STDIN, ${SOL_SOCKET}, ${SO_SNDBUF}, ${size}) or exit 1`,
    perl,
  );
}
