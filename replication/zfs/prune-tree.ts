/**
 * What pruning reads of a tree, parsed: per filesystem its snapshots (guid, createtxg,
 * creation, userrefs) and its locally set user properties with a given prefix. Pure.
 */
import { compareFilesystemNames } from './names.js';
import { parsePropertiesByName, type PropertyValue } from './parse.js';
import { ZfsUnknownError } from './errors.js';

export interface PruneTreeSnapshot {
  name: string;
  guid: string;
  createtxg: number;
  creation: number;
  userrefs: number;
}

export interface PruneTreeFilesystem {
  name: string;
  /** Oldest (lowest createtxg) first. */
  snapshots: PruneTreeSnapshot[];
  /** Property → value and source, for the local properties with the prefix. */
  properties: Record<string, PropertyValue>;
}

export type PruneTreeListing = PruneTreeFilesystem[];

function wholeNumber(value: string | undefined, what: string, name: string): number {
  // zfs-fuse prints userrefs of a snapshot without holds as 0; `-` where a build lacks it.
  if (value === '-' && what === 'userrefs') return 0;
  if (value === undefined || !/^[0-9]+$/.test(value)) throw new ZfsUnknownError(`unparsable zfs output: ${what} of ${name} is ${JSON.stringify(value)}`);
  return Number(value);
}

export function parsePruneTree(snapshotRows: string, localRows: string, root: string, opts: { recursive: boolean; propertyPrefix: string }): PruneTreeListing {
  const filesystems = new Map<string, PruneTreeFilesystem>();
  const within = (name: string): boolean => name === root || (opts.recursive && name.startsWith(`${root}/`));
  const entry = (name: string): PruneTreeFilesystem => {
    let found = filesystems.get(name);
    if (found === undefined) {
      found = { name, snapshots: [], properties: {} };
      filesystems.set(name, found);
    }
    return found;
  };
  for (const [name, props] of parsePropertiesByName(snapshotRows)) {
    if (name.includes('#')) continue;
    const at = name.indexOf('@');
    if (at < 0) {
      if (within(name)) entry(name);
      continue;
    }
    const filesystem = name.slice(0, at);
    if (!within(filesystem)) continue;
    entry(filesystem).snapshots.push({
      name: name.slice(at + 1),
      guid: props.guid?.value ?? '',
      createtxg: wholeNumber(props.createtxg?.value, 'createtxg', name),
      creation: wholeNumber(props.creation?.value, 'creation', name),
      userrefs: wholeNumber(props.userrefs?.value ?? '-', 'userrefs', name),
    });
  }
  for (const [name, props] of parsePropertiesByName(localRows)) {
    const found = filesystems.get(name);
    if (found === undefined) continue;
    for (const [property, value] of Object.entries(props)) {
      if (property.startsWith(opts.propertyPrefix) && value.source === 'local') found.properties[property] = value;
    }
  }
  for (const fs of filesystems.values()) {
    for (const snapshot of fs.snapshots) {
      if (!/^[0-9]+$/.test(snapshot.guid)) throw new ZfsUnknownError(`unparsable zfs output: no guid for ${fs.name}@${snapshot.name}`);
    }
    fs.snapshots.sort((a, b) => a.createtxg - b.createtxg || (a.name < b.name ? -1 : 1));
  }
  return [...filesystems.values()].sort((a, b) => compareFilesystemNames(a.name, b.name));
}
