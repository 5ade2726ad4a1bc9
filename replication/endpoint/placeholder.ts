/**
 * Placeholders: the parents a served sink creates so a client's filesystem can land at
 * `root_fs/<identity>/pool/x` although nothing was received for `pool`. They never mount
 * (`canmount=off`, `mountpoint=none`) and say what they are in a user property (zrepl's
 * `zrepl:placeholder`), so a later real receive of such a parent may replace one: it holds
 * nothing a client sent.
 */

import { DatasetNotFoundError, type PropertyValue, type ZfsDriver } from '../zfs/index.js';

/** The user property marking a filesystem zferry created only to hold others (`on`). */
export const PLACEHOLDER_PROPERTY = 'zferry:placeholder';

/** What `zfs create` sets on a placeholder. */
export const PLACEHOLDER_PROPERTIES: Readonly<Record<string, string>> = Object.freeze({
  mountpoint: 'none',
  canmount: 'off',
  [PLACEHOLDER_PROPERTY]: 'on',
});

/**
 * Whether a filesystem's PLACEHOLDER_PROPERTY entry (as `zfs get` reports it) marks it: only a
 * value set on the filesystem itself does, since every child inherits its parent's.
 */
export function isPlaceholder(entry: PropertyValue | undefined): boolean {
  return entry?.value === 'on' && entry.source === 'local';
}

/** Why a placeholder may not be received over, or undefined when it may (or `filesystem` is none). */
export async function placeholderInUse(driver: ZfsDriver, filesystem: string): Promise<string | undefined> {
  let tree: Map<string, unknown[]>;
  let values: Map<string, Record<string, PropertyValue>>;
  try {
    ({ tree, properties: values } = await driver.listVersionTree(filesystem, { recursive: true, types: ['snapshot'], properties: [PLACEHOLDER_PROPERTY] }));
  } catch (error) {
    if (error instanceof DatasetNotFoundError) return undefined;
    throw error;
  }
  for (const [name, versions] of tree) {
    if (!isPlaceholder(values.get(name)?.[PLACEHOLDER_PROPERTY]))
      return name === filesystem ? 'it is not a placeholder' : `${name} below it is not a placeholder`;
    if (versions.length > 0) return `${name === filesystem ? 'it' : name} has snapshots`;
  }
  return undefined;
}
