import type { FilesystemVersion } from '../zfs/types.js';
import { PlanArgumentError, PlanError } from './errors.js';
import { createSnapshotSelector } from './glob.js';
import {
  divergedMessage,
  divergedNothingToRenameForMessage,
  divergenceFact,
  initialRefusedMessage,
  nameList,
  noCommonFact,
  noCommonMessage,
  renameNeedsInitialMessage,
} from './messages.js';
import { resolvePlanOptions } from './options.js';
import { formatUtcCompact } from './snapshot-name.js';
import { incrementalSteps, initialSteps } from './steps.js';
import type { FilesystemPlan, PlanInput, PlanOptions, ReplicatePlan, Step } from './types.js';
import { findNewestCommon, newerThan, shortName, snapshotsOf, sortVersions, type CommonVersion } from './versions.js';

/** What every branch needs to know about the source. */
interface SourceFacts {
  input: PlanInput;
  options: PlanOptions;
  /** Every source snapshot, oldest first (selected or not: `send -I` carries them all). */
  senderSnapshots: FilesystemVersion[];
  /** The source snapshots the filters allow to send, oldest first. */
  selected: FilesystemVersion[];
}

/**
 * Decides how to bring one target filesystem up to date with its source. Pure: the version
 * lists and options in, a plan out; nothing is run and the clock is never read. Refusals come
 * back as `refuse` plans; only invalid options throw (PlanArgumentError).
 *
 * Decisions, by the state of the target:
 * - absent, or present without snapshots: initial replication by `initial` ('fail' refuses);
 *   an existing target is received into with -F and flagged so the executor checks it is empty.
 * - newest common snapshot (guid match; the source side may be a bookmark) and the target has
 *   nothing newer nor was modified since: incremental steps to every newer selected snapshot,
 *   or up-to-date.
 * - diverged (target snapshots newer than the common one, or modified since it while it is the
 *   newest): 'fail' refuses even when nothing is due to be sent, since the next run would stumble
 *   on it anyway; 'rollback' rolls back then sends (possibly nothing); 'rename' moves the
 *   target aside and replicates fresh.
 * - snapshots but none in common: refused unless 'rename'; 'rollback' has nothing to roll back to.
 * A fresh replication after 'rename' is a full send, so `initial: 'fail'` refuses it before
 * anything is renamed; so does having no selected snapshot to send, as the original name would
 * stay empty. With no selected snapshot and no common one, there is nothing to do: 'skip'.
 */
export function planFilesystem(input: PlanInput, options: Partial<PlanOptions> = {}): FilesystemPlan {
  const resolved = resolvePlanOptions(options);
  const isSelected = createSnapshotSelector(resolved);
  const senderSnapshots = snapshotsOf(input.sender);
  const facts: SourceFacts = {
    input,
    options: resolved,
    senderSnapshots,
    selected: senderSnapshots.filter((v) => isSelected(v.name)),
  };
  if (input.receiver === null) return planFresh(facts, false);
  const receiverSnapshots = snapshotsOf(input.receiver);
  const targetNewest = receiverSnapshots[receiverSnapshots.length - 1];
  if (targetNewest === undefined) return planFresh(facts, true);
  const common = findNewestCommon(input.sender, receiverSnapshots);
  if (common === undefined) return planWithoutCommon(facts, targetNewest);
  return planFromCommon(facts, common, input.receiver, receiverSnapshots);
}

/** The target does not exist, or exists without snapshots. */
function planFresh(facts: SourceFacts, targetExists: boolean): FilesystemPlan {
  const { source, target } = facts.input;
  if (facts.selected.length === 0) return skipNothingSelected(facts, '');
  const policy = facts.options.initial;
  if (policy === 'fail') {
    const error = new PlanError('INITIAL_REFUSED', initialRefusedMessage(source, target, targetExists), { source, target });
    return { action: 'refuse', source, target, error };
  }
  const steps = initialSteps(facts.selected, facts.senderSnapshots, policy, facts.options.batch);
  const where = targetExists ? `into existing ${target}, which has no snapshots` : `to new ${target}`;
  const plan: ReplicatePlan = {
    action: 'replicate',
    source,
    target,
    steps,
    reason: `initial replication (${policy}) ${where}: ${countSnapshots(steps)}`,
  };
  if (targetExists) {
    plan.forceFullReceive = true;
    plan.targetExistsWithoutSnapshots = true;
  }
  return plan;
}

/** The target has snapshots, but none shares a guid with the source. */
function planWithoutCommon(facts: SourceFacts, targetNewest: FilesystemVersion): FilesystemPlan {
  const { source, target } = facts.input;
  if (facts.selected.length === 0) {
    return skipNothingSelected(facts, ` (the target's snapshots share no guid with the source either)`);
  }
  const { onDiverged, initial } = facts.options;
  if (onDiverged !== 'rename') {
    const message = noCommonMessage(source, target, targetNewest, onDiverged === 'rollback');
    const error = new PlanError('NO_COMMON_SNAPSHOT', message, { source, target, targetNewest });
    return { action: 'refuse', source, target, error };
  }
  if (initial === 'fail') {
    const message = renameNeedsInitialMessage(source, target, noCommonFact(source, target, targetNewest));
    const error = new PlanError('INITIAL_REFUSED', message, { source, target, targetNewest });
    return { action: 'refuse', source, target, error };
  }
  return planRenameAside(facts, initial, `target ${target} shares no snapshot with ${source}`);
}

/** The target has the common snapshot `common`; it may have moved on past it. */
function planFromCommon(
  facts: SourceFacts,
  common: CommonVersion,
  receiverVersions: readonly FilesystemVersion[],
  receiverSnapshots: readonly FilesystemVersion[],
): FilesystemPlan {
  const { source, target } = facts.input;
  const diverging = newerThan(receiverSnapshots, common.receiver.createtxg);
  const targetModified = diverging.length === 0 && facts.input.receiverModifiedSinceLatest === true;
  const newer = newerThan(facts.selected, common.sender.createtxg);
  const steps = incrementalSteps(common.sender, newer, facts.senderSnapshots, facts.options.batch);

  if (diverging.length === 0 && !targetModified) {
    if (steps.length === 0) return { action: 'up-to-date', source, target, common: common.sender };
    return {
      action: 'replicate',
      source,
      target,
      steps,
      common: common.sender,
      reason: `incremental from ${shortName(common.sender)}: ${countSnapshots(steps)}`,
    };
  }

  const details = { source, target, common: common.receiver, divergingSnapshots: diverging, targetModified };
  const { onDiverged, initial } = facts.options;
  if (onDiverged === 'fail') {
    const error = new PlanError('DIVERGED', divergedMessage(source, target, common.receiver, diverging), details);
    return { action: 'refuse', source, target, error };
  }
  if (onDiverged === 'rollback') {
    // `zfs rollback -r` also destroys newer bookmarks, so they are listed too.
    const destroys = newerThan(sortVersions(receiverVersions), common.receiver.createtxg);
    const what =
      diverging.length > 0
        ? `destroying ${nameList(destroys)}`
        : `discarding changes made since it${destroys.length > 0 ? ` and destroying ${nameList(destroys)}` : ''}`;
    const then = steps.length > 0 ? `then incremental: ${countSnapshots(steps)}` : 'nothing newer to send';
    return {
      action: 'replicate',
      source,
      target,
      steps,
      common: common.sender,
      rollback: { to: common.receiver, destroys },
      reason: `diverged after ${shortName(common.receiver)}: rolling back ${target} to it, ${what}; ${then}`,
    };
  }
  if (facts.selected.length === 0) {
    const message = divergedNothingToRenameForMessage(source, target, common.receiver, diverging);
    return { action: 'refuse', source, target, error: new PlanError('DIVERGED', message, details) };
  }
  if (initial === 'fail') {
    const message = renameNeedsInitialMessage(source, target, divergenceFact(source, target, common.receiver, diverging));
    return { action: 'refuse', source, target, error: new PlanError('INITIAL_REFUSED', message, details) };
  }
  return planRenameAside(facts, initial, `target ${target} diverged after ${shortName(common.receiver)}`);
}

/** Keep the target intact under another name, then replicate fresh into the original name. */
function planRenameAside(facts: SourceFacts, policy: 'all' | 'most-recent', why: string): ReplicatePlan {
  const { source, target } = facts.input;
  const now = facts.options.now;
  // resolvePlanOptions already refused 'rename' without it; this keeps the types honest.
  if (now === undefined) throw new PlanArgumentError("onDiverged 'rename' needs options.now");
  const renamed = `${target}-diverged-${formatUtcCompact(now)}`;
  const steps = initialSteps(facts.selected, facts.senderSnapshots, policy, facts.options.batch);
  return {
    action: 'replicate',
    source,
    target,
    steps,
    renameTarget: { to: renamed },
    reason: `${why}: keeping it as ${renamed}, then initial replication (${policy}): ${countSnapshots(steps)}`,
  };
}

function skipNothingSelected(facts: SourceFacts, suffix: string): FilesystemPlan {
  const { source, target } = facts.input;
  const why =
    facts.senderSnapshots.length === 0
      ? `${source} has no snapshots`
      : `none of the ${facts.senderSnapshots.length} snapshots of ${source} matches the snapshot filters`;
  return { action: 'skip', source, target, code: 'NO_SNAPSHOTS', reason: `nothing to send: ${why}${suffix}` };
}

function countSnapshots(steps: readonly Step[]): string {
  const snapshots = steps.reduce((sum, step) => sum + step.snapshots.length, 0);
  const s = (n: number): string => (n === 1 ? '' : 's');
  return `${snapshots} snapshot${s(snapshots)} in ${steps.length} step${s(steps.length)}`;
}
