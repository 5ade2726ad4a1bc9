/**
 * The replication cursors, once a run's filesystems are done: each side holds the new
 * incremental bases and releases the previous ones (the protocol is the endpoint's, see
 * docs/replication.md), unless the listing found them where they belong already.
 */
import { cursorTag } from '../endpoint/cursor.js';
import type { FilesystemVersion } from '../zfs/types.js';
import type { RunContext } from './context.js';
import { describeError } from './errors.js';
import type { EndpointClient, FilesystemResult, JobSpec } from './types.js';

/** The contract's bound on former tags per listing. */
const MAX_FORMER_TAGS = 32;

/**
 * The tag of this job's cursors, and those of cursors recorded under the destination's former
 * names and the job's former names (a renamed daemon job). The closest relatives come first
 * (a former job name with the destination as named now), should the list reach its bound.
 */
export function cursorTagsOf(spec: Pick<JobSpec, 'name' | 'destination' | 'formerNames' | 'formerDestinations'>): {
  cursorTag: string;
  formerCursorTags?: string[];
} {
  const tag = cursorTag(spec.name, spec.destination);
  const formerNames = spec.formerNames ?? [];
  const formerDestinations = spec.formerDestinations ?? [];
  const candidates = [
    ...formerNames.map((name) => cursorTag(name, spec.destination)),
    ...formerDestinations.map((destination) => cursorTag(spec.name, destination)),
    ...formerNames.flatMap((name) => formerDestinations.map((destination) => cursorTag(name, destination))),
  ];
  const formerTags = [...new Set(candidates)].filter((former) => former !== tag).slice(0, MAX_FORMER_TAGS);
  return { cursorTag: tag, ...(formerTags.length > 0 ? { formerCursorTags: formerTags } : {}) };
}

/** Where one side's listing found the cursors. */
export interface ListedCursors {
  /** Filesystem → the snapshot its cursor names. */
  cursors: ReadonlyMap<string, string>;
  /** Filesystem → the former tags it still records. */
  former: ReadonlyMap<string, readonly string[]>;
}

export function listedCursorsOf(
  filesystems: ReadonlyArray<{ name: string; cursor?: string | undefined; formerCursors?: string[] | undefined }>,
): ListedCursors {
  return {
    cursors: new Map(filesystems.flatMap((fs) => (fs.cursor === undefined ? [] : [[fs.name, fs.cursor] as const]))),
    former: new Map(
      filesystems.flatMap((fs) => (fs.formerCursors === undefined || fs.formerCursors.length === 0 ? [] : [[fs.name, fs.formerCursors] as const])),
    ),
  };
}

/** A filesystem's run as the cursors see it. */
export interface FinishedRun {
  result: FilesystemResult;
  /** The newest snapshot both sides now share, if any. */
  base?: FilesystemVersion;
  renamed?: boolean;
}

/** Holds the new incremental bases on both sides, releasing the previous ones; returns a warning for each side that failed. */
export async function moveCursors(run: RunContext, runs: readonly FinishedRun[], listed: { source: ListedCursors; target: ListedCursors }): Promise<string[]> {
  const { spec } = run;
  const tag = cursorTag(spec.name, spec.destination);
  const moves = (side: 'source' | 'target') =>
    runs
      .filter((r): r is FinishedRun & { base: FilesystemVersion } => r.base !== undefined && r.result.outcome !== 'failed')
      .map((r) => ({ filesystem: r.result[side], snapshot: r.base.name }));
  // A recursive job's moves may go as one recursive hold where the whole tree moves together.
  const sides: [string, EndpointClient, ReturnType<typeof moves>, string, ListedCursors][] = [
    ['sender', run.sender, moves('source'), spec.source, listed.source],
    ['receiver', run.receiver, moves('target'), spec.target, listed.target],
  ];
  const warnings: string[] = [];
  await Promise.all(
    sides.map(async ([side, client, sideMoves, root, sideListed]) => {
      if (sideMoves.length === 0 || cursorsInPlace(runs, sideMoves, sideListed)) return;
      // Former tags are taken over where the base they protect is now held under the current one.
      const formerTags = [...new Set(sideMoves.flatMap((move) => sideListed.former.get(move.filesystem) ?? []))];
      try {
        await client.moveCursors({ tag, moves: sideMoves, ...(spec.recursive ? { root } : {}), ...(formerTags.length > 0 ? { formerTags } : {}) }, run.call);
      } catch (error) {
        const { message } = describeError(error);
        warnings.push(`could not move the replication cursor on the ${side}: ${message}`);
        run.logger.warn({ side, tag, err: error }, 'replication cursor not moved');
      }
    }),
  );
  return warnings;
}

/**
 * Nothing to move: no filesystem changed in this run and the listing found every cursor on
 * its base already, with no former tag's record left to take over. A side whose endpoint did
 * not report cursors always moves.
 */
function cursorsInPlace(runs: readonly FinishedRun[], moves: ReadonlyArray<{ filesystem: string; snapshot: string }>, listed: ListedCursors): boolean {
  const unchanged = runs.every((r) => r.result.steps.length === 0 && r.result.actions.length === 0 && r.renamed !== true);
  return unchanged && moves.every((move) => listed.cursors.get(move.filesystem) === move.snapshot && !listed.former.has(move.filesystem));
}
