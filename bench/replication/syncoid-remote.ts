/**
 * syncoid's own way into the throwaway sshd.
 *
 * zfs-fuse's `zfs get` has no `-t` (type filter). syncoid 2.1 lists snapshots with
 * `zfs get -t snapshot` and, when that fails, falls back to a command without it; but over ssh
 * it builds the fallback wrongly (it puts the ssh command in front twice), so every
 * incremental into the ssh target failed and syncoid was left out of those rows. On such a
 * zfs, syncoid gets a key of its own whose sessions find a `zfs` shim first in PATH: the shim
 * runs `zfs get` without `-t` and keeps the rows of the types asked for, as a zfs with `-t`
 * would print them; every other call goes straight to the real zfs. The other contenders'
 * sessions never see it.
 */

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SESSION_PATH, type Sshd } from '../../test/helpers/sshd.js';
import { checkCommand, runCommand } from './command.js';
import type { RemoteHost } from './replicators.js';

/** True when this zfs's `get` accepts `-t` (real OpenZFS does; zfs-fuse does not). */
export async function zfsGetFiltersTypes(dataset: string): Promise<boolean> {
  const result = await runCommand(['zfs', 'get', '-H', '-t', 'filesystem', 'name', dataset]);
  return result.exitCode === 0;
}

/**
 * The remote host as syncoid should reach it: `remote` itself where the zfs has `get -t`,
 * else the same host with a key whose sessions use the shim. The note says which.
 */
export async function syncoidRemote(sshd: Sshd, remote: RemoteHost, pool: string): Promise<{ remote: RemoteHost; note?: string }> {
  if (await zfsGetFiltersTypes(pool)) return { remote };
  const realZfs = (await checkCommand(['bash', '-c', 'command -v zfs'])).stdout.trim();
  const dir = path.join(sshd.dir, 'syncoid-bin');
  await mkdir(dir, { recursive: true });
  const shim = path.join(dir, 'zfs');
  await writeFile(shim, shimScript(realZfs));
  await chmod(shim, 0o755);
  const key = await sshd.newClientKey('syncoid');
  await sshd.authorize({ key, path: `${dir}:${SESSION_PATH}` });
  return {
    remote: { ...remote, identityFile: key.privateKeyPath },
    note: 'this zfs has no `zfs get -t`, and syncoid 2.1 builds its fallback for that wrongly over ssh: its ssh sessions get a zfs shim that filters `get` rows by type (bench/replication/syncoid-remote.ts)',
  };
}

/** Names tell the type apart: `fs@snap` a snapshot, `fs#mark` a bookmark, else a filesystem or volume. */
export function shimScript(realZfs: string): string {
  return [
    '#!/bin/bash',
    '# zfs with `zfs get -t TYPES` emulated by filtering rows (for syncoid on zfs-fuse; bench only).',
    `real=${JSON.stringify(realZfs)}`,
    '[ "$1" = get ] || exec "$real" "$@"',
    'shift',
    'args=()',
    'types=',
    'while [ $# -gt 0 ]; do',
    '  if [ "$1" = -t ] && [ $# -gt 1 ]; then types=$2; shift 2; else args+=("$1"); shift; fi',
    'done',
    '[ -n "$types" ] || exec "$real" get "${args[@]}"',
    'set -o pipefail',
    '"$real" get "${args[@]}" | awk -v types=",$types," \'',
    '  NR == 1 && $1 == "NAME" { print; next }',
    '  { t = index($1, "@") ? "snapshot" : index($1, "#") ? "bookmark" : "filesystem" }',
    '  t == "filesystem" && index(types, ",volume,") { print; next }',
    '  index(types, "," t ",") || index(types, ",all,") { print }',
    "'",
    '',
  ].join('\n');
}
