/**
 * Stand-in `zfs` binaries for tests: small shell scripts in a temp directory that run the
 * real zfs under conditions a test cannot otherwise create without disturbing the shared
 * daemon, or that record every invocation.
 *
 *  - `recording`: logs each argv (one line, fields separated by \x1f) and runs the real zfs;
 *    proves which commands a driver ran, or that it ran none.
 *  - `no-daemon`: runs the real zfs in a private mount namespace whose /run/zfs is an empty
 *    tmpfs, so the client finds no daemon socket (what a stopped daemon looks like).
 *  - `unprivileged`: runs the real zfs as uid/gid 65534, which the daemon socket refuses.
 *  - `send-flags`: logs like `recording`, then drops `-w -c -L -e` from `zfs send` before
 *    running the real zfs: a zfs that accepts those flags (probes included) where the real
 *    one lacks them, so a test can see them reach zfs and the replication still complete.
 */

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type WrapperMode = 'recording' | 'no-daemon' | 'unprivileged' | 'send-flags';

export interface ZfsWrapper {
  /** Path to pass as `zfsBin` (or `zpoolBin`). */
  readonly bin: string;
  /** The directory holding the script (to put first on PATH). */
  readonly dir: string;
  /** The argv of every invocation so far (recording mode logs; the others log too). */
  invocations(): string[][];
  /** Forget the invocations logged so far. */
  clear(): void;
  cleanup(): void;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * `realBin`: the command wrapped (`zfs`, `zpool` or an absolute path); the script gets the
 * same base name, so its directory can also be put first on PATH.
 */
export function createZfsWrapper(mode: WrapperMode, realBin = 'zfs'): ZfsWrapper {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zferry-zfswrap-'));
  const bin = path.join(dir, path.basename(realBin));
  const log = path.join(dir, 'invocations.log');
  writeFileSync(log, '');
  // One write per invocation: concurrent zfs calls append to the same log, and a record written
  // in pieces could interleave with another's.
  const record = `record="$(printf '%s\\037' "$@")"; printf '%s\\n' "$record" >> ${shellQuote(log)}`;
  let run: string;
  switch (mode) {
    case 'recording':
      run = `exec ${realBin} "$@"`;
      break;
    case 'no-daemon':
      run = `exec unshare -m sh -c 'mount -t tmpfs zferry-empty /run/zfs && exec "$0" "$@"' ${realBin} "$@"`;
      break;
    case 'unprivileged':
      run = `exec setpriv --reuid=65534 --regid=65534 --clear-groups ${realBin} "$@"`;
      break;
    case 'send-flags':
      // The for list is expanded once, before the loop rebuilds "$@" without the flags.
      run = [
        'if [ "$1" = send ]; then',
        '  first=1',
        '  for arg in "$@"; do',
        '    if [ $first = 1 ]; then set --; first=0; fi',
        '    case "$arg" in -w|-c|-L|-e) ;; *) set -- "$@" "$arg" ;; esac',
        '  done',
        'fi',
        `exec ${realBin} "$@"`,
      ].join('\n');
      break;
  }
  writeFileSync(bin, `#!/bin/sh\n${record}\n${run}\n`);
  chmodSync(bin, 0o755);
  return {
    bin,
    dir,
    invocations: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => line.split('\x1f').slice(0, -1)),
    clear: () => writeFileSync(log, ''),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
