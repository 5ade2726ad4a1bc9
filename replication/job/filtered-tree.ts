/**
 * What a filesystem filter (JobSpec.filesystemFilter) adds to a tree run, and the base each
 * filesystem's status reports once the run is over.
 */
import type { FilesystemMapping } from '../planner/index.js';
import { parentOf } from '../zfs/index.js';
import type { FilesystemVersion } from '../zfs/types.js';
import type { RunContext } from './context.js';
import type { FilesystemProgress } from './status.js';
import type { FilesystemResult } from './types.js';

/**
 * A selected filesystem whose parent the filter leaves out has nobody to create its target's
 * parent: a step to create the missing ones, run once its nearest selected ancestor is done
 * (which may create the target it lies below). Source filesystem → that step.
 */
export function gapParentSteps(
  run: RunContext,
  mappings: readonly FilesystemMapping[],
  onTarget: ReadonlyMap<string, unknown>,
): Map<string, () => Promise<void>> {
  const selected = new Set(mappings.map((m) => m.source));
  const steps = new Map<string, () => Promise<void>>();
  if (run.spec.dryRun || run.spec.filesystemFilter === undefined) return steps;
  for (const { source, target } of mappings) {
    const sourceParent = parentOf(source);
    const targetParent = parentOf(target);
    if (source === run.spec.source || sourceParent === undefined || selected.has(sourceParent)) continue;
    if (targetParent === undefined || onTarget.has(targetParent)) continue;
    steps.set(source, async () => {
      const { created } = await run.receiver.ensureParent({ filesystem: target }, run.call);
      for (const name of created) run.logger.info({ filesystem: name }, 'created missing parent on the target (its source is not selected)');
    });
  }
  return steps;
}

/** Its status records the newest snapshot both sides now share (the daemon's "last replicated"). */
export function recordBase(status: FilesystemProgress, outcome: FilesystemResult['outcome'], base: FilesystemVersion | undefined): void {
  if (base !== undefined && outcome !== 'failed') status.settled({ snapshot: base.name, guid: base.guid, creation: base.creation });
}
