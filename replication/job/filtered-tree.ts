/**
 * What a filesystem filter (JobSpec.filesystemFilter) adds to a tree run, and the base each
 * filesystem's result reports.
 */
import type { FilesystemMapping } from '../planner/index.js';
import { parentOf } from '../zfs/index.js';
import type { FilesystemVersion } from '../zfs/types.js';
import type { RunContext } from './context.js';
import type { FilesystemResult } from './types.js';

/**
 * A selected filesystem whose parent the filter leaves out has nobody to create its target's
 * parent: create the missing ones now, as the target root's are (before anything is received).
 */
export async function createGapParents(run: RunContext, mappings: readonly FilesystemMapping[], onTarget: ReadonlyMap<string, unknown>): Promise<void> {
  const selected = new Set(mappings.map((m) => m.source));
  for (const { source, target } of mappings) {
    const sourceParent = parentOf(source);
    const targetParent = parentOf(target);
    if (source === run.spec.source || sourceParent === undefined || selected.has(sourceParent)) continue;
    if (targetParent === undefined || onTarget.has(targetParent)) continue;
    const { created } = await run.receiver.ensureParent({ filesystem: target }, run.call);
    for (const name of created) run.logger.info({ filesystem: name }, 'created missing parent on the target (its source is not selected)');
  }
}

/** The result with the newest snapshot both sides now share. */
export function withBase(result: FilesystemResult, base: FilesystemVersion | undefined): FilesystemResult {
  if (base === undefined || result.outcome === 'failed') return result;
  return { ...result, base: { snapshot: base.name, guid: base.guid, creation: base.creation } };
}
