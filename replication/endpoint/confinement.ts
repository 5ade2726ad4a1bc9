/**
 * What a served endpoint lets one client touch: datasets at or below its roots (a sink's
 * `root_fs/<identity>`), and of those, on a source, only the filesystems its `filesystems`
 * filter selects. Every handler checks each name a request carries here, before any zfs command
 * runs; a refusal names the client and is logged.
 *
 * The contract already refuses malformed names on the wire; a confined endpoint checks them
 * again (a local caller skips the wire, and a check that depends on another module's regex is
 * one edit away from gone): a leading `-`, `.`/`..` or empty components, `@`/`#` out of place.
 */

import type { Logger } from 'pino';
import {
  InvalidNameError,
  isAtOrBelow,
  isValidShortName,
  parseDatasetName,
  validateHoldTag,
  validateShortName,
  validateUserPropertyName,
  type DatasetKind,
  type ParsedName,
} from '../zfs/index.js';
import { CURSOR_PROPERTY_PREFIX, cursorProperty } from './cursor.js';
import { ConfinementRefusedError, OutsideRootError } from './errors.js';

export interface ConfinementOptions {
  /** Datasets the client may touch, each with everything below it; empty: no root applies. */
  roots: readonly string[];
  /** Who is served, named in every refusal. */
  identity?: string | undefined;
  /** A source's filter: the filesystems it serves, each on its own (not what lies below it). */
  selects?: ((filesystem: string) => boolean) | undefined;
  logger: Logger;
}

/** A cursor's hold tag, as the contract takes it. */
const CURSOR_TAG = /^zferry_[A-Za-z0-9_.:-]{1,200}$/;

export class Confinement {
  readonly #roots: readonly string[];
  readonly #identity: string | undefined;
  readonly #selects: ((filesystem: string) => boolean) | undefined;
  readonly #logger: Logger;

  constructor(options: ConfinementOptions) {
    this.#roots = [...options.roots];
    this.#identity = options.identity;
    this.#selects = options.selects;
    this.#logger = options.logger;
  }

  /** Whether anything confines the client; without, names are left to the contract and the driver. */
  get confined(): boolean {
    return this.#roots.length > 0 || this.#selects !== undefined;
  }

  /** A filesystem the client may act on: within its roots and, on a source, selected. */
  filesystem(call: string, name: string): string {
    return this.#dataset(call, name, ['filesystem'], true).filesystem;
  }

  /** A snapshot of a filesystem the client may act on. */
  snapshot(call: string, name: string): ParsedName {
    return this.#dataset(call, name, ['snapshot'], true);
  }

  /** A snapshot or bookmark of a filesystem the client may act on. */
  version(call: string, name: string): ParsedName {
    return this.#dataset(call, name, ['snapshot', 'bookmark'], true);
  }

  /**
   * A filesystem within the roots, selected or not: the root of a listing (whose answer is
   * filtered with `serves`), or a question about its pool.
   */
  within(call: string, name: string, via?: string): string {
    return this.#dataset(call, name, ['filesystem'], false, via).filesystem;
  }

  /** A snapshot a resume token names: within the roots and selected, `via` says what named it. */
  tokenSnapshot(call: string, name: string): ParsedName {
    return this.#dataset(call, name, ['snapshot'], true, 'the resume token names');
  }

  /** A snapshot's short name (after `@`): nothing zfs could read as an option or a path. */
  shortName(call: string, short: string): string {
    if (!this.confined || isValidShortName(short)) return short;
    try {
      validateShortName(short);
    } catch (error) {
      this.#refuse(call, String(short), `name the snapshot ${JSON.stringify(String(short))}`, error instanceof InvalidNameError ? error.reason : String(error));
    }
    return this.#refuse(call, String(short), `name the snapshot ${JSON.stringify(String(short))}`, 'not a valid snapshot name');
  }

  /** Whether a listing may show `filesystem` to the client. */
  serves(filesystem: string): boolean {
    return this.#withinRoots(filesystem) && (this.#selects === undefined || this.#selects(filesystem));
  }

  /**
   * The cursor property of `tag`, checked to be one of zferry's own user properties (never a
   * native one, never anything zfs would read as an option), and the tag a valid hold tag.
   */
  cursorProperty(call: string, tag: string): string {
    if (!this.confined) return cursorProperty(tag);
    if (typeof tag !== 'string' || !CURSOR_TAG.test(tag)) this.#refuse(call, tag, `use the cursor tag ${JSON.stringify(tag)}`, 'not a zferry cursor tag');
    const property = cursorProperty(tag);
    try {
      validateHoldTag(tag);
      validateUserPropertyName(property);
    } catch (error) {
      this.#refuse(call, tag, `use the cursor tag ${JSON.stringify(tag)}`, error instanceof InvalidNameError ? error.reason : String(error));
    }
    if (!property.startsWith(CURSOR_PROPERTY_PREFIX)) this.#refuse(call, property, `touch the property ${property}`, "only zferry's own cursor properties");
    return property;
  }

  /** A rename aside: both names the client's, and within one and the same root. */
  renameAside(call: string, from: string, to: string): void {
    this.filesystem(call, from);
    this.filesystem(call, to);
    if (this.#roots.length === 0) return;
    const root = this.#rootOf(from);
    if (root !== this.#rootOf(to)) this.#refuse(call, to, `rename ${from} to ${to}`, `a rename aside stays within its root ${root ?? ''}`);
  }

  #dataset(call: string, name: string, kinds: readonly DatasetKind[], selected: boolean, via?: string): ParsedName {
    if (!this.confined) return parseDatasetName(name);
    let parsed: ParsedName;
    try {
      parsed = parseDatasetName(name);
    } catch (error) {
      const reason = error instanceof InvalidNameError ? error.reason : String(error);
      return this.#refuse(call, String(name), `name ${JSON.stringify(String(name))}`, reason);
    }
    if (!kinds.includes(parsed.kind)) this.#refuse(call, name, `name ${name} here`, `expected a ${kinds.join(' or ')}, got a ${parsed.kind}`);
    if (!this.#withinRoots(parsed.filesystem)) {
      const error = new OutsideRootError(parsed.filesystem, this.#roots, via, this.#identity);
      this.#log(call, name, error.message);
      throw error;
    }
    if (selected && this.#selects !== undefined && !this.#selects(parsed.filesystem)) {
      this.#refuse(call, name, `touch ${parsed.filesystem}`, 'not among the filesystems this source serves');
    }
    return parsed;
  }

  #withinRoots(filesystem: string): boolean {
    return this.#roots.length === 0 || this.#roots.some((root) => isAtOrBelow(filesystem, root));
  }

  /** The most specific root holding `filesystem`. */
  #rootOf(filesystem: string): string | undefined {
    return this.#roots.filter((root) => isAtOrBelow(filesystem, root)).sort((a, b) => b.length - a.length)[0];
  }

  #refuse(call: string, name: string, what: string, why: string): never {
    const error = new ConfinementRefusedError(this.#identity, what, why);
    this.#log(call, name, error.message);
    throw error;
  }

  #log(call: string, name: string, message: string): void {
    this.#logger.warn({ identity: this.#identity, call, name, refused: message }, 'refused a request outside what the client may touch');
  }
}
