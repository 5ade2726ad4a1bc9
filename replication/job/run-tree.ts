/**
 * Runs a tree's filesystems, at most `concurrency` at once: a child starts only after its
 * parent is done (its target must exist first), and does not run when the parent failed.
 */
import { parentOf } from '../zfs/index.js';
import { interruption, type StepContext } from './context.js';
import { describeError } from './errors.js';
import { runFilesystem, type FilesystemRun, type KnownVersions } from './run-filesystem.js';

/** A mapped filesystem, and what the job's tree listing found of it. */
export interface FilesystemTask {
  ctx: StepContext;
  known: KnownVersions;
  /** Runs first, once the nearest mapped ancestor is done (e.g. create a target parent nobody replicates). */
  prepare?: () => Promise<void>;
}

/** A run, and whether its target's listing went stale: an ancestor's target was renamed aside, taking it along. */
type TreeRun = FilesystemRun & { moved: boolean };

/** The runs in the order of `tasks` (parents before children). */
export async function runTree(tasks: readonly FilesystemTask[], concurrency: number): Promise<FilesystemRun[]> {
  const runs = new Map<string, Promise<TreeRun>>();
  const limit = createLimiter(Math.max(1, concurrency));
  for (const task of tasks) {
    runs.set(task.ctx.mapping.source, runAfter(nearestRun(runs, task.ctx.mapping.source), task, limit));
  }
  return Promise.all(runs.values());
}

/** The run of the nearest ancestor in the tree (the parent, unless a filter left it out). */
function nearestRun(runs: ReadonlyMap<string, Promise<TreeRun>>, source: string): Promise<TreeRun> | undefined {
  for (let ancestor = parentOf(source); ancestor !== undefined; ancestor = parentOf(ancestor)) {
    const run = runs.get(ancestor);
    if (run !== undefined) return run;
  }
  return undefined;
}

async function runAfter(parentRun: Promise<TreeRun> | undefined, { ctx, known, prepare }: FilesystemTask, limit: Limiter): Promise<TreeRun> {
  let moved = false;
  if (parentRun) {
    const parent = await parentRun;
    if (parent.status.outcome === 'interrupted') {
      ctx.status.notRun('interrupted', interruption(ctx, undefined));
      return { status: ctx.status, moved: false };
    }
    if (parent.status.outcome === 'failed' && !ctx.spec.dryRun) {
      ctx.status.notRun('failed', { code: 'PARENT_FAILED', message: `not replicated: its parent ${parent.status.source} failed` });
      return { status: ctx.status, moved: false };
    }
    moved = parent.moved || parent.renamed === true;
  }
  const run = await limit(async () => {
    if (prepare !== undefined) {
      try {
        await prepare();
      } catch (error) {
        ctx.status.notRun(ctx.signal?.aborted ? 'interrupted' : 'failed', ctx.signal?.aborted ? interruption(ctx, undefined) : describeError(error));
        return { status: ctx.status };
      }
    }
    return runFilesystem(ctx, moved ? undefined : known);
  });
  return { ...run, moved };
}

type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** A tiny concurrency limiter: at most `max` of the given tasks run at once. */
function createLimiter(max: number): Limiter {
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
