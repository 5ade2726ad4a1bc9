/**
 * The directory a daemon's sockets live in (the control socket, the stdinserver sockets): it
 * must be the daemon's user's alone to write, or someone else could replace a socket and be
 * talked to in the daemon's place.
 */
import { mkdir, stat } from 'node:fs/promises';

/**
 * Creates `dir` (0700) when missing, and says why it is not private (`undefined` when it is):
 * not a directory, someone else's, or group- or world-writable. A failed mkdir throws.
 */
export async function privateDirectoryProblem(dir: string): Promise<string | undefined> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // stat, not lstat: what matters is the directory the sockets land in, wherever a link points.
  const info = await stat(dir);
  if (!info.isDirectory()) return 'it is not a directory';
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) return `it belongs to uid ${info.uid}, not to the daemon's user (uid ${uid}), who could replace a socket`;
  const mode = info.mode & 0o777;
  const writableBy = (mode & 0o002) !== 0 ? 'world-writable' : (mode & 0o020) !== 0 ? 'group-writable' : undefined;
  if (writableBy !== undefined) return `the directory is ${writableBy} (mode ${mode.toString(8).padStart(4, '0')}), so others could replace a socket`;
  return undefined;
}

/** How an admin makes `dir` private, or where else `key` can point. */
export function privateDirectoryFix(dir: string, key: string): string {
  return `make it the daemon's alone (chown ${process.getuid?.() ?? 'root'} ${dir} && chmod 700 ${dir}) or set ${key} elsewhere`;
}
