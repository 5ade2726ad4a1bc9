import { filesystemNameProblem, isAtOrBelow, compareFilesystemNames, MAX_NAME_LENGTH } from '../zfs/names.js';
import { FilesystemListingError, PlanArgumentError } from './errors.js';

export interface FilesystemMapping {
  source: string;
  target: string;
}

function checkRoot(role: string, root: string): void {
  const problem = filesystemNameProblem(root);
  if (problem !== undefined) throw new PlanArgumentError(`${role} root ${JSON.stringify(root)} is not a valid filesystem name: ${problem}`);
}

/**
 * Checks every name of a listing (duplicates refused) and returns those within `root`.
 * `outside` says whether a name outside the root is an attack ('reject') or simply not ours ('ignore').
 */
function checkListing(side: string, names: readonly string[], root: string, outside: 'reject' | 'ignore'): string[] {
  const seen = new Set<string>();
  const within: string[] = [];
  for (const name of names) {
    const problem = filesystemNameProblem(name);
    if (problem !== undefined) {
      throw new FilesystemListingError('INVALID_NAME', name, `${side} listed ${JSON.stringify(name)}, which is not a valid filesystem name: ${problem}`);
    }
    if (seen.has(name)) throw new FilesystemListingError('DUPLICATE', name, `${side} listed ${name} twice`);
    seen.add(name);
    if (isAtOrBelow(name, root)) within.push(name);
    else if (outside === 'reject') {
      throw new FilesystemListingError('OUTSIDE_ROOT', name, `${side} listed ${name}, which is not ${root} nor below it; refusing the whole listing`);
    }
  }
  return within;
}

function relocate(name: string, fromRoot: string, toRoot: string): string {
  return toRoot + name.slice(fromRoot.length);
}

/**
 * Where each source filesystem of a recursive job goes: the same path relative to the target
 * root, parents before children. The listing may come from a remote peer, so any name that is
 * invalid, duplicated or outside `sourceRoot` rejects the whole listing (FilesystemListingError).
 */
export function mapFilesystemTree(sourceFilesystems: readonly string[], sourceRoot: string, targetRoot: string): FilesystemMapping[] {
  checkRoot('source', sourceRoot);
  checkRoot('target', targetRoot);
  const sources = checkListing('the source', sourceFilesystems, sourceRoot, 'reject').sort(compareFilesystemNames);
  return sources.map((source) => {
    const target = relocate(source, sourceRoot, targetRoot);
    if (target.length > MAX_NAME_LENGTH) {
      throw new FilesystemListingError(
        'INVALID_NAME',
        source,
        `${source} would be received as ${target}, longer than the ${MAX_NAME_LENGTH} characters zfs allows`,
      );
    }
    return { source, target };
  });
}

/**
 * Target filesystems below `targetRoot` whose source no longer exists: a report for the user,
 * never something to destroy. Target names outside the root are not ours and are ignored.
 * Each entry pairs the existing target with the source name it would have come from.
 */
export function findTargetsMissingOnSender(
  targetFilesystems: readonly string[],
  sourceFilesystems: readonly string[],
  sourceRoot: string,
  targetRoot: string,
): FilesystemMapping[] {
  const expected = new Set(mapFilesystemTree(sourceFilesystems, sourceRoot, targetRoot).map((m) => m.target));
  return checkListing('the target', targetFilesystems, targetRoot, 'ignore')
    .filter((target) => !expected.has(target))
    .sort(compareFilesystemNames)
    .map((target) => ({ source: relocate(target, targetRoot, sourceRoot), target }));
}
