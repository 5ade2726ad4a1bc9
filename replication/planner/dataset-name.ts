/** zfs refuses longer names (ZFS_MAX_DATASET_NAME_LEN is 256 including the NUL). */
export const MAX_DATASET_NAME_LENGTH = 255;

/** The characters zfs accepts in a dataset name component. */
const COMPONENT = /^[A-Za-z0-9_.: -]+$/;

/**
 * Why `name` is not a valid filesystem name, or undefined when it is. Stricter than needed
 * in one way on purpose: `.`/`..` components are refused, since they only appear in attacks.
 * The first character must be a letter (a pool name rule), so no name can pass for an option.
 */
export function filesystemNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_DATASET_NAME_LENGTH) return `it is longer than ${MAX_DATASET_NAME_LENGTH} characters`;
  if (!/^[A-Za-z]/.test(name)) return 'it does not start with a letter';
  for (const component of name.split('/')) {
    if (component.length === 0) return 'it has an empty component';
    if (component === '.' || component === '..') return `it has a "${component}" component`;
    if (!COMPONENT.test(component)) return 'it has characters other than letters, digits and _ - . : space';
  }
  return undefined;
}

/** `name` is `root` or below it, comparing whole components (`tank/ab` is not below `tank/a`). */
export function isWithinFilesystem(name: string, root: string): boolean {
  return name === root || name.startsWith(`${root}/`);
}

/** Orders names so every parent comes before its children, siblings by code unit order. */
export function compareFilesystemNames(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i += 1) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
