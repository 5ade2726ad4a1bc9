import type { FilesystemVersion } from '../zfs/types.js';
import { shortName } from './versions.js';

/** Long lists are cut here in messages; the full list travels in the error's fields. */
const MAX_NAMED = 10;

export function nameList(versions: readonly FilesystemVersion[], max = MAX_NAMED): string {
  const named = versions.slice(0, max).map(shortName).join(', ');
  const rest = versions.length - max;
  return rest > 0 ? `${named} and ${rest} more` : named;
}

const RENAME_HINT = '--on-diverged rename (keeps the target intact under a new name and replicates fresh)';

/** One sentence stating how the target diverged. */
export function divergenceFact(source: string, target: string, common: FilesystemVersion, diverging: readonly FilesystemVersion[]): string {
  return diverging.length > 0
    ? `target ${target} has diverged from ${source}: it has snapshots newer than the newest common snapshot ${shortName(common)}: ${nameList(diverging)}.`
    : `target ${target} has diverged from ${source}: the target was modified since ${shortName(common)}, its newest snapshot and the newest common one.`;
}

export function divergedMessage(source: string, target: string, common: FilesystemVersion, diverging: readonly FilesystemVersion[]): string {
  const loses = diverging.length > 0 ? `destroys ${nameList(diverging)} on the target` : `discards the changes made on the target since ${shortName(common)}`;
  return `${divergenceFact(source, target, common, diverging)} Resolve with --on-diverged rollback (${loses}) or ${RENAME_HINT}.`;
}

/** Divergence with 'rename' requested, but the source has no selected snapshot to replicate fresh. */
export function divergedNothingToRenameForMessage(source: string, target: string, common: FilesystemVersion, diverging: readonly FilesystemVersion[]): string {
  return (
    `${divergenceFact(source, target, common, diverging)} --on-diverged rename cannot resolve this: ` +
    `${source} has no selected snapshot to replicate fresh, so the target is left as it is. ` +
    `Use --on-diverged rollback, or change the snapshot filters.`
  );
}

export function noCommonFact(source: string, target: string, targetNewest: FilesystemVersion): string {
  return (
    `target ${target} has snapshots but none in common with ${source}: no guid of the target's ` +
    `snapshots (newest: ${targetNewest.fullName}) matches a snapshot or bookmark of the source.`
  );
}

export function noCommonMessage(source: string, target: string, targetNewest: FilesystemVersion, rollbackRequested: boolean): string {
  const rollback = rollbackRequested ? ' --on-diverged rollback cannot resolve this: there is no common snapshot to roll back to.' : '';
  return (
    `${noCommonFact(source, target, targetNewest)}${rollback} Use --on-diverged rename to keep the ` +
    `target aside and replicate fresh, or destroy or rename ${target} by hand.`
  );
}

export function initialRefusedMessage(source: string, target: string, targetExists: boolean): string {
  const state = targetExists ? `target ${target} exists but has no snapshots` : `target ${target} does not exist`;
  return (
    `${state} and the initial replication policy is 'fail': refusing a full send of ${source}. ` + `Use --initial all or --initial most-recent to allow it.`
  );
}

/** 'rename' was requested to resolve `conflict`, but replicating fresh needs a full send. */
export function renameNeedsInitialMessage(source: string, target: string, conflict: string): string {
  return (
    `${conflict} --on-diverged rename would replicate ${source} fresh with a full send, which the ` +
    `initial replication policy 'fail' forbids: use --initial all or --initial most-recent together ` +
    `with --on-diverged rename, or resolve ${target} by hand.`
  );
}
