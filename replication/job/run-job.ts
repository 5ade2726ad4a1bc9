/**
 * A push or pull run over a source tree: optional fresh snapshot, list both sides, map the
 * tree, replicate each filesystem (parents before children, several at once), then move the
 * replication cursors. One filesystem failing never stops the others.
 */

import { cursorTag } from '../endpoint/cursor.js';
import { findTargetsMissingOnSender, mapFilesystemTree, type FilesystemMapping } from '../planner/index.js';
import { parentOf } from '../zfs/index.js';
import type { FilesystemVersion } from '../zfs/types.js';
import { SourceNotFoundError, StepVerificationError, UntrustedAnswerError } from './errors.js';
import { checkPlacement } from './placement.js';
import { checkReceived, describeError, interruption, runFilesystem, signalOption, type FilesystemRun, type FilesystemTask } from './run-filesystem.js';
import type { EndpointClient, FilesystemResult, JobSummary, ReplicationJob } from './types.js';

/**
 * Runs the job. Interrupted by its signal, it still answers with a summary (outcome
 * `interrupted`): what finished, and what was stopped or never started.
 */
export async function runReplicationJob(job: ReplicationJob): Promise<JobSummary> {
  const started = Date.now();
  try {
    return await replicateTree(job);
  } catch (error) {
    // Only the steps before any filesystem runs throw (listing, snapshot, parents).
    if (!job.signal?.aborted) throw error;
    const { message } = interruption(job, 'while listing and preparing');
    return {
      source: job.source,
      target: job.target,
      dryRun: job.dryRun,
      outcome: 'interrupted',
      filesystems: [],
      orphanedTargets: [],
      bytes: 0,
      durationMs: Date.now() - started,
      warnings: [`${message}: no filesystem was replicated`],
    };
  }
}

async function replicateTree(job: ReplicationJob): Promise<JobSummary> {
  const started = Date.now();
  const summary: JobSummary = {
    source: job.source,
    target: job.target,
    dryRun: job.dryRun,
    outcome: 'ok',
    filesystems: [],
    orphanedTargets: [],
    bytes: 0,
    durationMs: 0,
    warnings: [],
  };
  const signal = signalOption(job);
  // Both listings also say where this job's cursors stand, so a run that changes nothing can
  // leave them alone without asking again.
  const tag = cursorTag(job.name, job.destination);
  // And where cursors recorded under earlier names of the destination stand, to take them over.
  const formerTags = [...new Set((job.formerDestinations ?? []).map((name) => cursorTag(job.name, name)))].filter((former) => former !== tag);
  const cursors = { cursorTag: tag, ...(formerTags.length > 0 ? { formerCursorTags: formerTags } : {}) };

  // The target listing starts first: it is also what proves the receiver reachable (a remote
  // side may still be connecting), and no snapshot is taken for a run that cannot go anywhere.
  const targetListing = job.receiver.listVersionTree({ root: job.target, recursive: job.recursive, ...cursors }, signal);
  targetListing.catch(() => undefined);
  // Asked beside the listings (no extra round trip), awaited before anything changes.
  const placementChecked = checkPlacement(job);
  placementChecked.catch(() => undefined);
  if (job.snapshotName !== undefined) {
    const snapshot = `${job.source}@${job.snapshotName}`;
    summary.snapshot = snapshot;
    if (!job.dryRun) {
      await Promise.all([targetListing, placementChecked]);
      await job.sender.snapshot({ snapshots: [snapshot], recursive: job.recursive }, signal);
      job.logger.info({ snapshot, recursive: job.recursive }, 'snapshot taken');
    }
  }

  // One listing per side for the whole tree: per-filesystem round trips are what a cron job
  // over hundreds of datasets would otherwise pay.
  const [sourceTree, targetTree] = await Promise.all([
    job.sender.listVersionTree({ root: job.source, recursive: job.recursive, ...cursors }, signal),
    targetListing,
    placementChecked,
  ]);
  if (!sourceTree.exists) throw new SourceNotFoundError(job.source);
  const sourceNames = sourceTree.filesystems.map((fs) => fs.name);
  const mappings = mapFilesystemTree(sourceNames, job.source, job.target);
  const senderVersions = new Map(sourceTree.filesystems.map((fs) => [fs.name, fs.versions]));
  const receiverVersions = new Map(targetTree.filesystems.map((fs) => [fs.name, fs.versions]));

  if (targetTree.exists) {
    summary.orphanedTargets = findTargetsMissingOnSender([...receiverVersions.keys()], sourceNames, job.source, job.target).map((m) => m.target);
    for (const orphan of summary.orphanedTargets) {
      summary.warnings.push(`${orphan} exists on the target but its source no longer exists (left as it is)`);
    }
  } else if (!job.dryRun && parentOf(job.target) !== undefined) {
    const { created } = await job.receiver.ensureParent({ filesystem: job.target }, signal);
    for (const name of created) job.logger.info({ filesystem: name }, 'created missing parent on the target');
  }

  const tasks: FilesystemTask[] = mappings.map((mapping) => {
    const resumeToken = targetTree.resumeTokens[mapping.target];
    return {
      ...mapping,
      known: {
        sender: senderVersions.get(mapping.source) ?? [],
        receiver: receiverVersions.get(mapping.target) ?? null,
        ...(resumeToken !== undefined ? { resumeToken } : {}),
      },
    };
  });
  const runs = await runTree(job, tasks);
  await verifyDeferred(job, runs);
  summary.filesystems = runs.map((run) => run.result);

  // Interrupted: the cursors stay on bases both sides still hold; the next run moves them.
  if (!job.dryRun && !job.signal?.aborted) {
    const listedCursors = {
      source: listedCursorsOf(sourceTree.filesystems),
      target: listedCursorsOf(targetTree.filesystems),
    };
    await moveCursors(job, tag, runs, listedCursors, summary);
  }

  summary.bytes = summary.filesystems.reduce((sum, fs) => sum + fs.bytes, 0);
  summary.outcome = job.signal?.aborted ? 'interrupted' : summary.filesystems.some((fs) => fs.outcome === 'failed') ? 'failed' : 'ok';
  summary.durationMs = Date.now() - started;
  return summary;
}

/**
 * Runs every filesystem with at most `job.concurrency` at once; a child starts only after its
 * parent is done (its target must exist first), and is failed without running when the
 * parent failed.
 */
async function runTree(job: ReplicationJob, tasks: FilesystemTask[]): Promise<FilesystemRun[]> {
  const runs = new Map<string, Promise<FilesystemRun & { moved: boolean }>>();
  const limit = createLimiter(Math.max(1, job.concurrency));
  for (const task of tasks) {
    const parentRun = runs.get(parentOf(task.source) ?? '');
    const run = (async (): Promise<FilesystemRun & { moved: boolean }> => {
      let moved = false;
      if (parentRun) {
        const parent = await parentRun;
        if (parent.result.outcome === 'interrupted') {
          const { code, message } = interruption(job, undefined);
          return { result: { ...failedResult(task, code, message), outcome: 'interrupted' }, moved: false };
        }
        if (parent.result.outcome === 'failed' && !job.dryRun) {
          return { result: failedResult(task, 'PARENT_FAILED', `not replicated: its parent ${parent.result.source} failed`), moved: false };
        }
        // A renamed-aside target took its children along: what was listed for them is gone.
        moved = parent.moved || parent.renamed === true;
      }
      const { known, ...fresh } = task;
      const run = await limit(() => runFilesystem(job, moved ? fresh : task));
      // A filesystem whose last step awaits its check is done once verifyDeferred says so.
      if (run.unverified === undefined) job.onProgress?.({ type: 'filesystem-done', result: run.result });
      return { ...run, moved };
    })();
    runs.set(task.source, run);
  }
  return Promise.all(runs.values());
}

/**
 * Every filesystem's last step, verified at once: one `zfs get` per 64 snapshots instead of
 * one per filesystem while the others receive. A snapshot missing or not the one sent fails
 * its filesystem (and no cursor moves to it), as a check right after the receive would have;
 * so does a receiver that cannot be asked.
 */
async function verifyDeferred(job: ReplicationJob, runs: FilesystemRun[]): Promise<void> {
  const pending = runs.flatMap((run) => (run.unverified ? [{ run, sent: run.unverified, snapshot: `${run.result.target}@${run.unverified.name}` }] : []));
  if (pending.length === 0) return;
  let answer: { versions: Array<FilesystemVersion | null> } | undefined;
  let failure: unknown;
  try {
    // Not cut short by an interrupt: these receives are over, and the summary should say
    // whether they landed (one quick zfs get per 64 snapshots).
    answer = await job.receiver.verifyReceived({ snapshots: pending.map((p) => p.snapshot) });
    if (answer.versions.length !== pending.length) {
      throw new UntrustedAnswerError(`the receiver answered ${answer.versions.length} versions for ${pending.length} snapshots`);
    }
  } catch (error) {
    failure = error;
  }
  pending.forEach(({ run, sent, snapshot }, index) => {
    delete run.unverified;
    try {
      if (failure !== undefined) throw failure;
      const version = answer?.versions[index];
      if (!version) throw new StepVerificationError(`${snapshot} is not on the receiver after sending ${sent.fullName} (guid ${sent.guid})`);
      checkReceived(version, run.result.target, sent);
    } catch (error) {
      run.result.outcome = 'failed';
      run.result.error = describeError(error);
      delete run.base;
    }
    job.onProgress?.({ type: 'filesystem-done', result: run.result });
  });
}

function failedResult(mapping: FilesystemMapping, code: string, message: string): FilesystemResult {
  return {
    source: mapping.source,
    target: mapping.target,
    outcome: 'failed',
    plan: [],
    steps: [],
    bytes: 0,
    durationMs: 0,
    actions: [],
    error: { code, message },
  };
}

/** Where one side's listing found the cursors. */
interface ListedCursors {
  /** Filesystem → the snapshot its cursor names. */
  cursors: ReadonlyMap<string, string>;
  /** Filesystem → the former tags it still records. */
  former: ReadonlyMap<string, readonly string[]>;
}

function listedCursorsOf(filesystems: ReadonlyArray<{ name: string; cursor?: string | undefined; formerCursors?: string[] | undefined }>): ListedCursors {
  return {
    cursors: new Map(filesystems.flatMap((fs) => (fs.cursor === undefined ? [] : [[fs.name, fs.cursor] as const]))),
    former: new Map(filesystems.flatMap((fs) => (fs.formerCursors === undefined || fs.formerCursors.length === 0 ? [] : [[fs.name, fs.formerCursors] as const]))),
  };
}

/**
 * Nothing to move: no filesystem changed in this run and the listing found every cursor on
 * its base already, with no former tag's record left to take over. A side whose endpoint did
 * not report cursors always moves.
 */
function cursorsInPlace(runs: readonly FilesystemRun[], moves: ReadonlyArray<{ filesystem: string; snapshot: string }>, listed: ListedCursors): boolean {
  const unchanged = runs.every((run) => run.result.steps.length === 0 && run.result.actions.length === 0 && run.renamed !== true);
  return unchanged && moves.every((move) => listed.cursors.get(move.filesystem) === move.snapshot && !listed.former.has(move.filesystem));
}

/** Holds the new incremental bases on both sides, releasing the previous ones. */
async function moveCursors(
  job: ReplicationJob,
  tag: string,
  runs: FilesystemRun[],
  listed: { source: ListedCursors; target: ListedCursors },
  summary: JobSummary,
): Promise<void> {
  const moves = (side: 'source' | 'target') =>
    runs
      .filter((run): run is FilesystemRun & { base: FilesystemVersion } => run.base !== undefined && run.result.outcome !== 'failed')
      .map((run) => ({ filesystem: run.result[side], snapshot: run.base.name }));
  // A recursive job's moves may go as one recursive hold where the whole tree moves together.
  const sides: [string, EndpointClient, ReturnType<typeof moves>, string, ListedCursors][] = [
    ['sender', job.sender, moves('source'), job.source, listed.source],
    ['receiver', job.receiver, moves('target'), job.target, listed.target],
  ];
  await Promise.all(
    sides.map(async ([side, client, sideMoves, root, sideListed]) => {
      if (sideMoves.length === 0 || cursorsInPlace(runs, sideMoves, sideListed)) return;
      // Former tags are taken over where the base they protect is now held under the current one.
      const formerTags = [...new Set(sideMoves.flatMap((move) => sideListed.former.get(move.filesystem) ?? []))];
      try {
        await client.moveCursors(
          { tag, moves: sideMoves, ...(job.recursive ? { root } : {}), ...(formerTags.length > 0 ? { formerTags } : {}) },
          signalOption(job),
        );
      } catch (error) {
        const { message } = describeError(error);
        summary.warnings.push(`could not move the replication cursor on the ${side}: ${message}`);
        job.logger.warn({ side, tag, err: error }, 'replication cursor not moved');
      }
    }),
  );
}

/** A tiny concurrency limiter: at most `max` of the given tasks run at once. */
function createLimiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}
