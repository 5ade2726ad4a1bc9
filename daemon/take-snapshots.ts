/**
 * The daemon's snapshot step (snap jobs; push jobs before they replicate): one name (prefix +
 * UTC time) for every filesystem the filter selects. Where a filter root's whole subtree is
 * selected, that root gets one recursive snapshot (`zfs snapshot -r`, atomic across the
 * subtree); the other selected filesystems are named one by one, in one call.
 */
import type { Logger } from 'pino';
import type { FilesystemFilterRule, SnapshottingConfig } from '../config/types.js';
import type { EndpointOpener } from '../replication/endpoint/open.js';
import { isAtOrBelow } from '../replication/zfs/names.js';
import { JobDefinitionError } from './errors.js';
import { selectionOf } from './selection.js';
import { daemonSnapshotName } from './snapshot-name.js';

export interface TakeSnapshotsOptions {
  job: string;
  filesystems: readonly FilesystemFilterRule[];
  snapshotting: Exclude<SnapshottingConfig, { type: 'manual' }>;
  opener: EndpointOpener;
  logger: Logger;
  at: Date;
  signal: AbortSignal;
}

/** Takes the snapshots; resolves with their short name (undefined: nothing selected exists). */
export async function takeSnapshots(options: TakeSnapshotsOptions): Promise<string | undefined> {
  const { snapshotting, logger } = options;
  const name = daemonSnapshotName(snapshotting.prefix, options.at, snapshotting.timestampFormat);
  const selection = selectionOf(options.filesystems);
  if (selection.roots.some((root) => root.root === '')) {
    throw new JobDefinitionError(options.job, 'its filter selects every pool ("<"); name the pools to snapshot (e.g. "tank<": true)');
  }
  const first = selection.roots[0]?.root;
  if (first === undefined) return undefined;
  const side = options.opener.open({ kind: 'local', dataset: first });
  const call = { signal: options.signal };
  try {
    const recursive: string[] = [];
    const single: string[] = [];
    for (const { root, recursive: subtree } of selection.roots) {
      const listing = await side.client.listVersionTree({ root, recursive: subtree }, call);
      if (!listing.exists) {
        logger.warn({ filesystem: root }, 'filter root does not exist: nothing to snapshot there');
        continue;
      }
      const names = listing.filesystems.map((fs) => fs.name).filter((fs) => isAtOrBelow(fs, root));
      const selected = names.filter((fs) => selection.selects(fs));
      if (subtree && selected.length === names.length && selected.length > 0) recursive.push(`${root}@${name}`);
      else single.push(...selected.map((fs) => `${fs}@${name}`));
    }
    if (recursive.length === 0 && single.length === 0) return undefined;
    if (recursive.length > 0) await side.client.snapshot({ snapshots: recursive, recursive: true }, call);
    if (single.length > 0) await side.client.snapshot({ snapshots: single, recursive: false }, call);
    logger.info({ snapshot: name, recursive, filesystems: single.map((full) => full.slice(0, full.indexOf('@'))) }, 'snapshots taken');
    return name;
  } finally {
    await side.close();
  }
}
