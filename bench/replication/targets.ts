/**
 * Checking and removing what a bench round received: the snapshot guids below a dataset, and
 * the destroy of a pushed target (its replication cursor's holds released first).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { checkCommand, runCommand } from './command.js';
import { CommandFailedError } from './errors.js';

const CURSOR_PROPERTY_PREFIX = 'zferry:cursor.';

/** The guids of the snapshots below `dataset`, space-separated, in `zfs get` order. */
export async function guidsOf(dataset: string): Promise<string> {
  // zfs-fuse's `zfs get` has no -t: keep the snapshots' rows.
  const out = await checkCommand(['zfs', 'get', '-H', '-p', '-r', '-o', 'name,value', 'guid', dataset]);
  return out.stdout
    .split('\n')
    .filter((line) => line.split('\t')[0]?.includes('@'))
    .map((line) => line.split('\t')[1])
    .join(' ');
}

/**
 * Destroy a pushed target: release the replication cursor's holds first (their tags are in the
 * filesystem's `zferry:cursor.<tag>` properties), then `zfs destroy -r`, retried while
 * zfs-fuse says "dataset is busy" (a race with the receive's mount).
 */
export async function destroyTarget(dataset: string, snapshotName: string): Promise<void> {
  const props = await checkCommand(['zfs', 'get', '-H', '-o', 'property', 'all', dataset]);
  for (const property of props.stdout.split('\n')) {
    if (property.startsWith(CURSOR_PROPERTY_PREFIX))
      await runCommand(['zfs', 'release', property.slice(CURSOR_PROPERTY_PREFIX.length), `${dataset}@${snapshotName}`]);
  }
  for (let attempt = 0; ; attempt++) {
    const result = await runCommand(['zfs', 'destroy', '-r', dataset]);
    if (result.exitCode === 0) return;
    if (attempt >= 20 || !/dataset is busy/.test(result.stderr)) throw new CommandFailedError(result);
    await sleep(500);
  }
}
