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
import type { SnapshotHooks } from './hooks.js';
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
  /** Pre hooks per filesystem before the snapshot call (a fatal one leaves its filesystem out), post hooks after. */
  hooks?: SnapshotHooks;
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
    const planned: Array<{ root: string; whole: boolean; selected: string[] }> = [];
    for (const { root, recursive: subtree } of selection.roots) {
      const listing = await side.client.listVersionTree({ root, recursive: subtree }, call);
      if (!listing.exists) {
        logger.warn({ filesystem: root }, 'filter root does not exist: nothing to snapshot there');
        continue;
      }
      const names = listing.filesystems.map((fs) => fs.name).filter((fs) => isAtOrBelow(fs, root));
      const selected = names.filter((fs) => selection.selects(fs));
      planned.push({ root, whole: subtree && selected.length === names.length && selected.length > 0, selected });
    }
    const all = planned.flatMap((entry) => entry.selected);
    const skipped = options.hooks === undefined || all.length === 0 ? new Set<string>() : await options.hooks.before(all, name);
    const recursive: string[] = [];
    const single: string[] = [];
    for (const { root, whole, selected } of planned) {
      // A filesystem a pre hook excluded breaks the subtree: the others are named one by one.
      if (whole && !selected.some((fs) => skipped.has(fs))) recursive.push(`${root}@${name}`);
      else single.push(...selected.filter((fs) => !skipped.has(fs)).map((fs) => `${fs}@${name}`));
    }
    const taking = all.filter((fs) => !skipped.has(fs));
    if (recursive.length === 0 && single.length === 0) return undefined;
    let outcome: 'ok' | 'failed' = 'failed';
    try {
      if (recursive.length > 0) await side.client.snapshot({ snapshots: recursive, recursive: true }, call);
      if (single.length > 0) await side.client.snapshot({ snapshots: single, recursive: false }, call);
      outcome = 'ok';
    } finally {
      await options.hooks?.after(taking, name, outcome);
    }
    logger.info({ snapshot: name, recursive, filesystems: single.map((full) => full.slice(0, full.indexOf('@'))) }, 'snapshots taken');
    return name;
  } finally {
    await side.close();
  }
}
