/**
 * A push or pull run over a source tree: optional fresh snapshot, list both sides, map the
 * tree, replicate each filesystem (parents before children, several at once), then move the
 * replication cursors. One filesystem failing never stops the others.
 */
import { findTargetsMissingOnSender, mapFilesystemTree, type FilesystemMapping } from '../planner/index.js';
import { parentOf } from '../zfs/index.js';
import type { FilesystemVersion } from '../zfs/types.js';
import { checkLastSteps } from './check-last-steps.js';
import { gapParentSteps, recordBase } from './filtered-tree.js';
import { interruption, runContextOf, stepContextOf, type RunContext } from './context.js';
import { SourceNotFoundError, describeError } from './errors.js';
import { cursorTagsOf, listedCursorsOf, moveCursors } from './move-cursors.js';
import { checkPlacement } from './placement.js';
import { runTree, type FilesystemTask } from './run-tree.js';
import { lockRunTarget, type TargetLock } from './target-lock.js';
import type { EndpointClient, JobRuntime, JobSpec, JobSummary, ReplicationHandle } from './types.js';

/** One side's listing of its tree. */
type VersionTree = Awaited<ReturnType<EndpointClient['listVersionTree']>>;

/** Starts replicating `spec` with `runtime`; the handle tells how it goes and how it ended. */
export function startReplication(spec: JobSpec, runtime: JobRuntime): ReplicationHandle {
  const run = runContextOf(spec, runtime);
  return { status: () => run.progress.status(), result: replicate(run) };
}

/**
 * Interrupted by its signal, the run still answers with a summary (outcome `interrupted`): what
 * finished, and what was stopped or never started.
 */
async function replicate(run: RunContext): Promise<JobSummary> {
  let summary: JobSummary;
  // Taken before the target is first read: another run's receive in progress is no state to plan from.
  let lock: TargetLock | undefined;
  try {
    lock = await lockRunTarget(run);
    summary = await replicateTree(run);
  } catch (error) {
    // Only the steps before any filesystem runs throw (listing, snapshot, parents).
    if (!run.signal?.aborted) {
      run.progress.failed(describeError(error));
      throw error;
    }
    summary = interruptedWhilePreparing(run);
  } finally {
    await lock?.release();
  }
  run.progress.ended(summary);
  return summary;
}

async function replicateTree(run: RunContext): Promise<JobSummary> {
  const { spec } = run;
  const { snapshot, sourceTree, targetTree } = await listTrees(run);
  if (!sourceTree.exists) throw new SourceNotFoundError(spec.source);
  const listedNames = sourceTree.filesystems.map((fs) => fs.name);
  const sourceNames = spec.filesystemFilter === undefined ? listedNames : listedNames.filter(spec.filesystemFilter);
  const mappings = mapFilesystemTree(sourceNames, spec.source, spec.target);
  const versions: ListedVersions = {
    sender: new Map(sourceTree.filesystems.map((fs) => [fs.name, fs.versions])),
    receiver: new Map(targetTree.filesystems.map((fs) => [fs.name, fs.versions])),
    resumeTokens: targetTree.resumeTokens,
  };

  let orphanedTargets: string[] = [];
  if (targetTree.exists) {
    // Against the whole listing: a filesystem the filter leaves out still exists on the source.
    orphanedTargets = findTargetsMissingOnSender([...versions.receiver.keys()], listedNames, spec.source, spec.target).map((m) => m.target);
  } else if (!spec.dryRun && parentOf(spec.target) !== undefined) {
    const { created } = await run.receiver.ensureParent({ filesystem: spec.target }, run.call);
    for (const name of created) run.logger.info({ filesystem: name }, 'created missing parent on the target');
  }

  run.progress.enter('replicating');
  const ran = await runTree(tasksOf(run, mappings, versions), spec.concurrency);
  run.progress.enter('finishing');
  const finished = (await checkLastSteps(run, ran)).map((r) => ({ ...r, result: r.status.result() }));
  for (const r of finished) recordBase(r.status, r.result.outcome, r.base);

  const warnings = orphanedTargets.map((orphan) => `${orphan} exists on the target but its source no longer exists (left as it is)`);
  // Interrupted: the cursors stay on bases both sides still hold; the next run moves them.
  if (!spec.dryRun && !run.signal?.aborted) {
    const listed = { source: listedCursorsOf(sourceTree.filesystems), target: listedCursorsOf(targetTree.filesystems) };
    warnings.push(...(await moveCursors(run, finished, listed)));
  }

  const filesystems = finished.map((r) => r.result);
  return {
    source: spec.source,
    target: spec.target,
    dryRun: spec.dryRun,
    outcome: run.signal?.aborted ? 'interrupted' : filesystems.some((fs) => fs.outcome === 'failed') ? 'failed' : 'ok',
    filesystems,
    orphanedTargets,
    bytes: filesystems.reduce((sum, fs) => sum + fs.bytes, 0),
    durationMs: run.clock() - run.progress.startedAt,
    warnings,
    ...(snapshot !== undefined ? { snapshot } : {}),
  };
}

/** Takes the snapshot, if asked for, once the placement is known to be sound; lists both trees. */
async function listTrees(run: RunContext): Promise<{ snapshot?: string; sourceTree: VersionTree; targetTree: VersionTree }> {
  const { spec } = run;
  // Both listings also say where this job's cursors stand (and those recorded under the
  // destination's former names), so a run that changes nothing can leave them alone without
  // asking again.
  const cursors = cursorTagsOf(spec);
  // The target listing starts first: it is also what proves the receiver reachable (a remote
  // side may still be connecting), and no snapshot is taken for a run that cannot go anywhere.
  const targetListing = run.receiver.listVersionTree({ root: spec.target, recursive: spec.recursive, ...cursors }, run.call);
  targetListing.catch(() => undefined);
  // Asked beside the listings (no extra round trip), awaited before anything changes.
  const placementChecked = checkPlacement(run);
  placementChecked.catch(() => undefined);
  const snapshot = spec.snapshotName === undefined ? undefined : `${spec.source}@${spec.snapshotName}`;
  if (snapshot !== undefined && !spec.dryRun) {
    await Promise.all([targetListing, placementChecked]);
    await run.sender.snapshot({ snapshots: [snapshot], recursive: spec.recursive }, run.call);
    run.logger.info({ snapshot, recursive: spec.recursive }, 'snapshot taken');
  }
  // One listing per side for the whole tree: per-filesystem round trips are what a cron job
  // over hundreds of datasets would otherwise pay.
  const [sourceTree, targetTree] = await Promise.all([
    run.sender.listVersionTree({ root: spec.source, recursive: spec.recursive, ...cursors }, run.call),
    targetListing,
    placementChecked,
  ]);
  return { ...(snapshot !== undefined ? { snapshot } : {}), sourceTree, targetTree };
}

/** Both sides' versions of every filesystem, from the tree listings. */
interface ListedVersions {
  sender: ReadonlyMap<string, FilesystemVersion[]>;
  receiver: ReadonlyMap<string, FilesystemVersion[]>;
  /** Target filesystem → the token of a receive into it that was cut short. */
  resumeTokens: Readonly<Record<string, string>>;
}

/** Each mapped filesystem, pending in the run's status, with what the listings found of it. */
function tasksOf(run: RunContext, mappings: readonly FilesystemMapping[], versions: ListedVersions): FilesystemTask[] {
  const gapParents = gapParentSteps(run, mappings, versions.receiver);
  return mappings.map((mapping) => {
    const resumeToken = versions.resumeTokens[mapping.target];
    const prepare = gapParents.get(mapping.source);
    return {
      ...(prepare !== undefined ? { prepare } : {}),
      ctx: stepContextOf(run, mapping),
      known: {
        sender: versions.sender.get(mapping.source) ?? [],
        receiver: versions.receiver.get(mapping.target) ?? null,
        ...(resumeToken !== undefined ? { resumeToken } : {}),
      },
    };
  });
}

function interruptedWhilePreparing(run: RunContext): JobSummary {
  const { message } = interruption(run, 'while listing and preparing');
  return {
    source: run.spec.source,
    target: run.spec.target,
    dryRun: run.spec.dryRun,
    outcome: 'interrupted',
    filesystems: [],
    orphanedTargets: [],
    bytes: 0,
    durationMs: run.clock() - run.progress.startedAt,
    warnings: [`${message}: no filesystem was replicated`],
  };
}
