/**
 * The daemon's snapshot step (snap jobs; push jobs before they replicate): one name (prefix +
 * timestamp) for every filesystem the filter selects, taken atomically across the job (zrepl
 * takes one per filesystem, zrepl#583, zrepl#634):
 *  - the selection is one whole subtree: one `zfs snapshot -r ROOT@name`;
 *  - otherwise every selected filesystem named in one `zfs snapshot a@n b@n …`, where the local
 *    zfs takes several names (probed once, replication/zfs/capabilities.ts: OpenZFS does,
 *    zfs-fuse does not);
 *  - failing that, one call per filter root (`-r` for a whole subtree, else each filesystem in
 *    turn): not atomic across the job, and the log says so and why. `-r` on a common ancestor
 *    would snapshot filesystems the job does not select, so it is never used for that.
 * A filter that is one whole subtree by its rules alone (one `ROOT<: true`, nothing excluded
 * below) is snapshot without listing the tree first: the listing grows with the snapshots kept
 * and would cost several times the snapshot itself (docs/benchmarks.md).
 * The log line "snapshots taken" names the way (`method`) and whether it was `atomic`.
 */
import type { Logger } from 'pino';
import type { FilesystemFilterRule, SnapshottingConfig } from '../config/types.js';
import type { EndpointOpener } from '../replication/endpoint/open.js';
import { describeError } from '../replication/job/errors.js';
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
  /**
   * Pre hooks per filesystem before the snapshot call (a fatal one leaves its filesystem out),
   * post hooks after. Pass them only where the job has some: with hooks the tree is listed even
   * when the filter is one whole subtree (the hooks are per filesystem).
   */
  hooks?: SnapshotHooks;
}

/** The selected filesystems below one filter root; `whole`: the root's entire subtree is selected. */
interface RootGroup {
  root: string;
  whole: boolean;
  filesystems: string[];
}

/** How the snapshots were taken: `recursive` and `one-call` are atomic, `per-root` is not. */
export type SnapshotMethod = 'recursive' | 'one-call' | 'per-root';

type SnapshotCall = (
  names: string[],
  recursive: boolean,
  atomicOnly?: boolean,
) => Promise<{ taken?: boolean | undefined; atomic?: boolean | undefined; reason?: string | undefined }>;

/** Takes the snapshots; resolves with their short name (undefined: nothing selected exists). */
export async function takeSnapshots(options: TakeSnapshotsOptions): Promise<string | undefined> {
  const { snapshotting, logger, hooks } = options;
  const name = daemonSnapshotName(snapshotting.prefix, options.at, snapshotting.timestampFormat, snapshotting.timestampLocation);
  const selection = selectionOf(options.filesystems);
  if (selection.roots.some((root) => root.root === '')) {
    throw new JobDefinitionError(options.job, 'its filter selects every pool ("<"); name the pools to snapshot (e.g. "tank<": true)');
  }
  const first = selection.roots[0]?.root;
  if (first === undefined) return undefined;
  const side = options.opener.open({ kind: 'local', dataset: first });
  const call = { signal: options.signal };
  const snapshot: SnapshotCall = (names, recursive, atomicOnly = false) =>
    side.client.snapshot({ snapshots: names, recursive, ...(atomicOnly ? { atomicOnly: true } : {}) }, call);
  try {
    const subtree = hooks === undefined ? wholeSubtreeOf(options.filesystems) : undefined;
    if (subtree !== undefined) {
      try {
        await snapshot([`${subtree}@${name}`], true);
      } catch (error) {
        if (describeError(error).code !== 'ZFS_DATASET_NOT_FOUND') throw error;
        logger.warn({ filesystem: subtree }, 'filter root does not exist: nothing to snapshot there');
        return undefined;
      }
      logger.info({ snapshot: name, method: 'recursive', atomic: true, roots: [subtree] }, 'snapshots taken');
      return name;
    }
    let groups: RootGroup[] = [];
    for (const { root, recursive: subtree } of selection.roots) {
      const listing = await side.client.listVersionTree({ root, recursive: subtree }, call);
      if (!listing.exists) {
        logger.warn({ filesystem: root }, 'filter root does not exist: nothing to snapshot there');
        continue;
      }
      const names = listing.filesystems.map((fs) => fs.name).filter((fs) => isAtOrBelow(fs, root));
      const selected = names.filter((fs) => selection.selects(fs));
      if (selected.length > 0) groups.push({ root, whole: subtree && selected.length === names.length, filesystems: selected });
    }
    if (hooks !== undefined && groups.length > 0) {
      const skipped = await hooks.before(
        groups.flatMap((group) => group.filesystems),
        name,
      );
      // A filesystem a pre hook left out breaks its subtree: the rest is named one by one.
      groups = groups
        .map((group) =>
          group.filesystems.some((fs) => skipped.has(fs)) ? { ...group, whole: false, filesystems: group.filesystems.filter((fs) => !skipped.has(fs)) } : group,
        )
        .filter((group) => group.filesystems.length > 0);
    }
    const filesystems = groups.flatMap((group) => group.filesystems);
    if (filesystems.length === 0) return undefined;
    let outcome: 'ok' | 'failed' = 'failed';
    try {
      const { method, reason } = await takeGrouped(snapshot, groups, name);
      outcome = 'ok';
      const atomic = method !== 'per-root' && reason === undefined;
      const fields = { snapshot: name, method, atomic, roots: groups.map((group) => group.root), filesystems: filesystems.length };
      if (atomic) logger.info(fields, 'snapshots taken');
      else logger.warn({ ...fields, reason }, 'snapshots taken, not atomic across the job');
    } finally {
      await hooks?.after(filesystems, name, outcome);
    }
    return name;
  } finally {
    await side.close();
  }
}

/** The listed selection in one call where possible (see the head of this file), else per root. */
async function takeGrouped(snapshot: SnapshotCall, groups: readonly RootGroup[], name: string): Promise<{ method: SnapshotMethod; reason?: string }> {
  const only = groups.length === 1 ? groups[0] : undefined;
  if (only?.whole === true) {
    await snapshot([`${only.root}@${name}`], true);
    return { method: 'recursive' };
  }
  const all = groups.flatMap((group) => group.filesystems.map((fs) => `${fs}@${name}`));
  const taken = await snapshot(all, false, true);
  if (taken.taken !== false) {
    // A peer that does not say took them in one call (the request's promise).
    return taken.atomic === false ? { method: 'one-call', reason: taken.reason ?? 'not in one call' } : { method: 'one-call' };
  }
  for (const group of groups) {
    if (group.whole) await snapshot([`${group.root}@${name}`], true);
    else
      await snapshot(
        group.filesystems.map((fs) => `${fs}@${name}`),
        false,
      );
  }
  return { method: 'per-root', reason: taken.reason ?? 'zfs cannot take several snapshot names in one call' };
}

/**
 * The root when the rules select exactly one whole subtree whatever exists below it: one
 * `ROOT<: true` and no rule at or below ROOT that excludes (rules above it cannot win there).
 */
export function wholeSubtreeOf(rules: readonly FilesystemFilterRule[]): string | undefined {
  const roots = selectionOf(rules).roots;
  const root = roots[0]?.root;
  if (roots.length !== 1 || root === undefined || root === '') return undefined;
  if (!rules.some((rule) => rule.include && rule.subtree && rule.path === root)) return undefined;
  return rules.some((rule) => !rule.include && isAtOrBelow(rule.path, root)) ? undefined : root;
}
