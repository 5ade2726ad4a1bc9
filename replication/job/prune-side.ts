/**
 * Pruning of one side of a job, over its endpoint: list the tree (snapshots, holds, every
 * job's cursors), decide per filesystem with replication/pruning, log every decision, and
 * destroy what it decided to destroy (unless a dry run). The endpoint re-checks each
 * snapshot's guid and holds just before it destroys it, so a snapshot held or replaced since
 * the listing survives.
 */
import type { Logger } from 'pino';
import type { Client } from '../../rpc/index.js';
import type { EndpointContract } from '../contract.js';
import { decidePruning, type KeepRule, type PruneCursor, type PruningResult } from '../pruning/index.js';
import { describeError, UntrustedAnswerError } from './errors.js';

export interface PruneSideSpec {
  /** The job whose rules these are. */
  job: string;
  /** Which side, as the log and the command name it: `sender`, `receiver`, `local`. */
  side: string;
  /** Where the side's filesystems are (`zfs get -r` root), and whether below it too. */
  root: string;
  recursive: boolean;
  /** Whether a filesystem of the tree is the job's (its filter, mapped to this side's names). */
  selects: (filesystem: string) => boolean;
  rules: readonly KeepRule[];
  /** False for a snap job or a source's own pruning: nothing waits for a replication there. */
  replicates: boolean;
  /** This job's cursor tags on this side (current first, then those of former names): its last replication. */
  ownTags: readonly string[];
  /** Destinations as people read them, by cursor tag (the tag's hash says nothing to a reader). */
  destinations?: ReadonlyMap<string, string>;
  owns: (snapshot: string) => boolean;
  dryRun: boolean;
}

export interface PrunedFilesystem extends PruningResult {
  side: string;
  /** Destroyed (or, in a dry run, none). */
  destroyed: string[];
  /** Decided `destroy`, left in place by the endpoint's last check (held, replaced). */
  refused: Array<{ name: string; reason: string }>;
  error?: { code: string; message: string };
}

export interface PruneSideResult {
  side: string;
  root: string;
  filesystems: PrunedFilesystem[];
  /** The side could not be listed at all. */
  error?: { code: string; message: string };
}

/** `zferry_<job>_<hash>` → job (as the tag spells it). */
function jobOfTag(tag: string): string {
  const body = tag.slice('zferry_'.length);
  const cut = body.lastIndexOf('_');
  return cut > 0 ? body.slice(0, cut) : body;
}

function within(name: string, root: string, recursive: boolean): boolean {
  return name === root || (recursive && name.startsWith(`${root}/`));
}

export async function pruneSide(
  client: Client<EndpointContract>,
  spec: PruneSideSpec,
  logger: Logger,
  call: { signal?: AbortSignal } = {},
): Promise<PruneSideResult> {
  const sideLogger = logger.child({ side: spec.side });
  let listing;
  try {
    listing = await client.listPruneTree({ root: spec.root, recursive: spec.recursive }, call);
  } catch (error) {
    const described = describeError(error);
    sideLogger.error({ root: spec.root, code: described.code, err: error }, 'pruning: cannot list the snapshots');
    return { side: spec.side, root: spec.root, filesystems: [], error: described };
  }
  if (!listing.exists) {
    sideLogger.info({ root: spec.root }, 'pruning: nothing there yet');
    return { side: spec.side, root: spec.root, filesystems: [] };
  }
  const filesystems: PrunedFilesystem[] = [];
  for (const fs of listing.filesystems) {
    // A remote may be hostile: nothing outside the asked tree is ever decided on.
    if (!within(fs.name, spec.root, spec.recursive)) {
      const error = new UntrustedAnswerError(`the pruning listing of ${spec.root} names ${fs.name}`);
      sideLogger.error({ err: error }, 'pruning: untrusted answer');
      return { side: spec.side, root: spec.root, filesystems, error: describeError(error) };
    }
    if (!spec.selects(fs.name)) continue;
    const cursors: PruneCursor[] = fs.cursors.map((cursor) => ({
      job: jobOfTag(cursor.tag),
      destination: spec.destinations?.get(cursor.tag) ?? `destination ${cursor.tag.slice(cursor.tag.lastIndexOf('_') + 1)}`,
      snapshot: cursor.snapshot,
    }));
    const own = fs.cursors.filter((cursor) => spec.ownTags.includes(cursor.tag));
    const ownTxgs = own.flatMap((cursor) => fs.snapshots.filter((s) => s.name === cursor.snapshot).map((s) => s.createtxg));
    const lastReplicatedTxg = ownTxgs.length === 0 ? undefined : Math.max(...ownTxgs);
    const result = decidePruning({
      filesystem: fs.name,
      snapshots: fs.snapshots,
      rules: spec.rules,
      cursors,
      replicates: spec.replicates,
      lastReplicatedTxg,
      owns: spec.owns,
    });
    filesystems.push(await apply(client, spec, result, sideLogger.child({ filesystem: fs.name }), call));
  }
  return { side: spec.side, root: spec.root, filesystems };
}

async function apply(
  client: Client<EndpointContract>,
  spec: PruneSideSpec,
  result: PruningResult,
  logger: Logger,
  call: { signal?: AbortSignal },
): Promise<PrunedFilesystem> {
  const pruned: PrunedFilesystem = { ...result, side: spec.side, destroyed: [], refused: [] };
  if (result.note !== undefined) logger.info({ note: result.note }, `pruning: ${result.note}`);
  // One line per filesystem with every decision: what `zferry prune --dry-run` prints.
  logger.info(
    { dryRun: spec.dryRun, decisions: result.decisions.map((d) => ({ snapshot: d.snapshot, action: d.action, reason: d.reason })) },
    'pruning decisions',
  );
  const destroy = result.decisions.filter((d) => d.action === 'destroy');
  const kept = result.decisions.length - destroy.length;
  if (destroy.length === 0 || spec.dryRun) {
    logger.info(
      { kept, destroy: destroy.map((d) => d.snapshot), dryRun: spec.dryRun },
      spec.dryRun ? 'pruning (dry run): nothing destroyed' : 'pruning: nothing to destroy',
    );
    return pruned;
  }
  try {
    const answer = await client.destroySnapshots({ filesystem: result.filesystem, snapshots: destroy.map((d) => ({ name: d.snapshot, guid: d.guid })) }, call);
    pruned.destroyed = answer.destroyed.filter((name) => destroy.some((d) => d.snapshot === name));
    pruned.refused = answer.refused;
    for (const refused of answer.refused) logger.warn({ snapshot: refused.name, reason: refused.reason }, 'pruning: snapshot left in place');
    logger.info({ kept, destroyed: pruned.destroyed }, 'pruning: destroyed');
  } catch (error) {
    pruned.error = describeError(error);
    logger.error({ code: pruned.error.code, err: error }, 'pruning: destroy failed');
  }
  return pruned;
}
