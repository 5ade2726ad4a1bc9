/**
 * ZfsDriver: every interaction with the `zfs`/`zpool` command line tools.
 *
 * Names are validated before any process runs; commands are argument arrays (no shell);
 * failures become typed errors parsed from stderr; capabilities are probed once per pool.
 */

import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import type { FilesystemVersion, VersionType, ZfsCapabilities } from './types.js';
import { ZfsExec } from './exec.js';
import {
  InvalidNameError,
  DatasetBusyError,
  DatasetNotFoundError,
  DestinationExistsError,
  IncrementalSourceMissingError,
  ReceiveVerificationError,
  ZfsAbortedError,
  ZfsUnknownError,
} from './errors.js';
import {
  isAtOrBelow,
  parseDatasetName,
  poolOf,
  validateFilesystemName,
  validateHoldTag,
  validatePropertyName,
  validatePropertyValue,
  validateShortName,
  validateSnapshotName,
  validateUserPropertyName,
} from './names.js';
import {
  parseHolds,
  parseNameList,
  parseProperties,
  parsePropertiesByName,
  parseSendSize,
  parseVersionTree,
  parseFilesystemProperties,
  parseVersions,
  parseVersionsByFilesystem,
  valueOrUndefined,
  VERSION_PROPERTIES,
  type PropertyValue,
} from './parse.js';
import { combineCapabilities, probeBinary, probePool, type BinaryProbe, type CapabilityName, type PoolProbe } from './capabilities.js';
import { buildSendArgs, startSend, type DirectSendProcess, type KilledSendHandler, type SendOptions, type SendProcess, type SendSizeEstimate } from './send.js';
import { releaseSendHolds } from './send-holds.js';
import {
  buildReceiveArgs,
  feedReceive,
  feedReceiveDirect,
  validateReceiveOptions,
  type DirectFeedOutcome,
  type ReceiveOptions,
  type ReceiveResult,
} from './receive.js';
import { directSendOf } from './direct-send.js';
import { binaryKey, readProbeCache, writeProbeCache } from './probe-cache.js';
import { errorFromResult } from './exec.js';
import { CoalescingLookup } from './coalescing-lookup.js';
import { parsePruneTree, type PruneTreeListing } from './prune-tree.js';
import { errorMessage } from '../../platform/errors.js';
import { tell, type ZfsCommandObserver } from './command-observer.js';

export interface ZfsDriverOptions {
  zfsBin?: string;
  zpoolBin?: string;
  logger?: Logger;
  /** File that keeps what the zfs binary accepts across runs (see probe-cache.ts); none: probe each time. */
  probeCacheFile?: string;
  /** Told of every zfs/zpool command once it ended: subcommand, duration, success (metrics). */
  onCommand?: ZfsCommandObserver;
}

/** `zfs destroy fs@a,b,c` argument length cap: far below ARG_MAX, one chunk for typical prunes. */
const BATCH_DESTROY_MAX_CHARS = 64 * 1024;
/** The FUSE "dataset is busy" right after a mount clears within a second or two. */
const BUSY_RETRIES = 4;
const BUSY_RETRY_DELAY_MS = 500;

/** Snapshot names one `zfs get` asks about at most: bounds its command line. */
const SNAPSHOTS_PER_LOOKUP = 64;

export class ZfsDriver {
  private readonly exec: ZfsExec;
  private readonly logger: Logger;
  private binaryProbe: Promise<BinaryProbe> | undefined;
  private readonly probeCacheFile: string | undefined;
  private readonly poolCapabilities = new Map<string, Promise<ZfsCapabilities>>();
  /** `zpool get all` once per pool: both the capabilities and the pool's guid come from it. */
  private readonly poolProbes = new Map<string, Promise<PoolProbe>>();
  private readonly resolvedCapabilities = new Map<string, ZfsCapabilities>();
  /** Guid checks after receives finishing together share one `zfs get` (coalescing-lookup.ts). */
  private readonly snapshotLookup = new CoalescingLookup<FilesystemVersion>((names) => this.lookupSnapshotVersions(names), SNAPSHOTS_PER_LOOKUP);

  constructor(options: ZfsDriverOptions = {}) {
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'zfs' });
    this.exec = new ZfsExec({
      zfsBin: options.zfsBin ?? 'zfs',
      zpoolBin: options.zpoolBin ?? 'zpool',
      logger: this.logger,
      ...(options.onCommand !== undefined ? { onCommand: options.onCommand } : {}),
    });
    this.probeCacheFile = options.probeCacheFile;
  }

  // ---------------------------------------------------------------- capabilities

  /** What the pool of `datasetOrPool` and this zfs build support; probed once per pool. */
  capabilities(datasetOrPool: string): Promise<ZfsCapabilities> {
    const pool = poolOf(datasetOrPool);
    let pending = this.poolCapabilities.get(pool);
    if (!pending) {
      pending = this.probeCapabilities(pool);
      this.poolCapabilities.set(pool, pending);
      // A failed probe (pool missing, daemon down) must not be cached.
      pending.catch(() => {
        if (this.poolCapabilities.get(pool) === pending) this.poolCapabilities.delete(pool);
      });
    }
    return pending;
  }

  /**
   * The guid of the pool holding `datasetOrPool` (which pool it is, under whatever name or
   * host it is reached); undefined when there is no such pool. Shares the capability probe.
   */
  async poolGuid(datasetOrPool: string): Promise<string | undefined> {
    const pool = poolOf(datasetOrPool);
    let probe: PoolProbe;
    try {
      probe = await this.poolProbe(pool);
    } catch (error) {
      if (error instanceof DatasetNotFoundError) return undefined;
      throw error;
    }
    // A pool that answers without a guid cannot be told apart from another: never guess.
    if (probe.guid === undefined) throw new ZfsUnknownError(`zpool get all ${pool} printed no guid for the pool`, { command: ['zpool', 'get', 'all', pool] });
    return probe.guid;
  }

  private poolProbe(pool: string): Promise<PoolProbe> {
    let pending = this.poolProbes.get(pool);
    if (!pending) {
      pending = probePool(this.exec, pool).catch((error: unknown) => {
        // zfs says "cannot open 'x': no such pool"; say which pool is missing in words.
        if (error instanceof DatasetNotFoundError) {
          throw new DatasetNotFoundError(`pool '${pool}' does not exist`, {
            stderr: error.stderr,
            exitCode: error.exitCode,
            command: error.command,
            cause: error,
          });
        }
        throw error;
      });
      this.poolProbes.set(pool, pending);
      // A failed probe (pool missing, daemon down) must not be cached.
      pending.catch(() => {
        if (this.poolProbes.get(pool) === pending) this.poolProbes.delete(pool);
      });
    }
    return pending;
  }

  /** Capabilities already probed for this pool, without probing. */
  cachedCapabilities(datasetOrPool: string): ZfsCapabilities | undefined {
    return this.resolvedCapabilities.get(poolOf(datasetOrPool));
  }

  private async probeBinaryCached(): Promise<BinaryProbe> {
    const file = this.probeCacheFile;
    const key = file === undefined ? undefined : await binaryKey(this.exec.zfsBin);
    if (file === undefined || key === undefined) return probeBinary(this.exec);
    const cached = await readProbeCache(file, key, this.logger);
    if (cached) return cached;
    const probe = await probeBinary(this.exec);
    await writeProbeCache(file, key, probe, this.logger);
    return probe;
  }

  private async probeCapabilities(pool: string): Promise<ZfsCapabilities> {
    if (!this.binaryProbe) {
      this.binaryProbe = this.probeBinaryCached();
      this.binaryProbe.catch(() => {
        this.binaryProbe = undefined;
      });
    }
    const [binary, poolProbe] = await Promise.all([this.binaryProbe, this.poolProbe(pool)]);
    const caps = combineCapabilities(binary, poolProbe);
    // Debug level: a CLI run probes every pool it touches, and the same reasons each time.
    for (const [name, reason] of Object.entries(caps.reasons) as Array<[CapabilityName, string]>) {
      this.logger.debug({ pool, capability: name, reason }, `zfs capability ${name} is off`);
    }
    this.logger.debug({ pool, capabilities: { ...caps, reasons: undefined } }, 'zfs capabilities probed');
    this.resolvedCapabilities.set(pool, caps);
    return caps;
  }

  // ---------------------------------------------------------------- listing

  /**
   * Filesystems (and volumes) at and below `root`, parents before children. `recursive`
   * defaults to true; `filter` sees every name (root included). Missing root: DatasetNotFoundError.
   */
  async listFilesystems(root: string, opts: { recursive?: boolean; filter?: (name: string) => boolean } = {}): Promise<string[]> {
    validateFilesystemName(root);
    const args = ['list', '-H', '-o', 'name', '-t', 'filesystem,volume'];
    if (opts.recursive ?? true) args.push('-r');
    args.push(root);
    const names = parseNameList(await this.exec.zfs(args)).filter((name) => isAtOrBelow(name, root));
    names.sort(compareByComponents);
    return opts.filter ? names.filter(opts.filter) : names;
  }

  /** Whether a filesystem, volume, snapshot or bookmark exists. */
  async exists(name: string): Promise<boolean> {
    const parsed = parseDatasetName(name);
    let type = 'filesystem,volume';
    if (parsed.kind === 'snapshot') type = 'snapshot';
    if (parsed.kind === 'bookmark') {
      const caps = await this.capabilities(name).catch((error: unknown) => {
        if (error instanceof DatasetNotFoundError) return undefined; // no such pool
        throw error;
      });
      if (!caps?.bookmarks) return false;
      type = 'bookmark';
    }
    try {
      await this.exec.zfs(['list', '-H', '-o', 'name', '-t', type, name]);
      return true;
    } catch (error) {
      if (error instanceof DatasetNotFoundError) return false;
      throw error;
    }
  }

  /** Snapshots (and bookmarks where supported) of one filesystem, sorted by createtxg. */
  async listVersions(filesystem: string, opts: { types?: VersionType[] } = {}): Promise<FilesystemVersion[]> {
    validateFilesystemName(filesystem);
    const caps = await this.capabilities(filesystem);
    const wanted = (opts.types ?? ['snapshot', 'bookmark']).filter((t) => t === 'snapshot' || caps.bookmarks);
    if (wanted.length === 0) {
      // Still fail for a missing filesystem, like the listing would.
      if (!(await this.exists(filesystem))) throw notFound(filesystem);
      return [];
    }
    const args = ['get', '-H', '-p', '-o', 'name,property,value', '-d', '1'];
    if (caps.getTypeFilter) args.push('-t', wanted.join(','));
    args.push(VERSION_PROPERTIES.join(','), filesystem);
    return parseVersions(await this.exec.zfs(args), filesystem, wanted);
  }

  /**
   * Received snapshots verified after the fact (receives with `deferVerification`): each
   * `fs@name` with its version, or undefined where it does not exist. One `zfs get` per
   * SNAPSHOTS_PER_LOOKUP (not the coalescing lookup, whose first name would go out alone).
   */
  async findReceivedSnapshots(snapshots: readonly string[]): Promise<Map<string, FilesystemVersion | undefined>> {
    snapshots.forEach((snapshot) => validateSnapshotName(snapshot));
    const found = new Map<string, FilesystemVersion | undefined>();
    const unique = [...new Set(snapshots)];
    for (let at = 0; at < unique.length; at += SNAPSHOTS_PER_LOOKUP) {
      const batch = unique.slice(at, at + SNAPSHOTS_PER_LOOKUP);
      const versions = await this.lookupSnapshotVersions(batch);
      for (const snapshot of batch) found.set(snapshot, versions.get(snapshot));
    }
    return found;
  }

  /** One snapshot's version, or undefined when it (or its filesystem) does not exist. */
  async getSnapshotVersion(snapshot: string): Promise<FilesystemVersion | undefined> {
    validateSnapshotName(snapshot);
    return this.snapshotLookup.lookup(snapshot);
  }

  /** One `zfs get` for several snapshots; a snapshot not in the answer does not exist. */
  private async lookupSnapshotVersions(snapshots: readonly string[]): Promise<Map<string, FilesystemVersion>> {
    const args = ['get', '-H', '-p', '-o', 'name,property,value', VERSION_PROPERTIES.join(','), ...snapshots];
    const result = await this.exec.run(this.exec.zfsBin, args);
    if (result.exitCode !== 0) {
      // One of them is missing, or zfs failed: ask one by one, so each gets its own answer.
      if (snapshots.length > 1) {
        const answers = await Promise.all(snapshots.map((snapshot) => this.lookupSnapshotVersions([snapshot])));
        return new Map(answers.flatMap((answer) => [...answer]));
      }
      const error = errorFromResult(result);
      if (error instanceof DatasetNotFoundError) return new Map();
      throw error;
    }
    const byFilesystem = parseVersionsByFilesystem(result.stdout, ['snapshot']);
    const found = new Map<string, FilesystemVersion>();
    for (const snapshot of snapshots) {
      const { filesystem } = validateSnapshotName(snapshot);
      const version = byFilesystem.get(filesystem)?.find((v) => v.fullName === snapshot);
      if (version !== undefined) found.set(snapshot, version);
    }
    return found;
  }

  /**
   * Every filesystem at (and with `recursive`, below) `root` with its snapshots (and bookmarks
   * where supported), in one `zfs get`: parents before children, versions by createtxg. The
   * same command reads each filesystem's value and source of `properties` (user properties:
   * `-` where unset). Missing root: DatasetNotFoundError.
   */
  async listVersionTree(
    root: string,
    opts: { recursive?: boolean; types?: VersionType[]; properties?: readonly string[] } = {},
  ): Promise<{ tree: Map<string, FilesystemVersion[]>; properties: Map<string, Record<string, PropertyValue>> }> {
    const properties = opts.properties ?? [];
    validateFilesystemName(root);
    properties.forEach(validatePropertyName);
    const recursive = opts.recursive ?? true;
    const caps = await this.capabilities(root);
    const wanted = (opts.types ?? ['snapshot', 'bookmark']).filter((t) => t === 'snapshot' || caps.bookmarks);
    const args = ['get', '-H', '-p', '-o', 'name,property,value,source'];
    args.push(...(recursive ? ['-r'] : ['-d', '1']));
    if (caps.getTypeFilter) args.push('-t', ['filesystem', 'volume', ...wanted].join(','));
    args.push([...VERSION_PROPERTIES, ...properties].join(','), root);
    const stdout = await this.exec.zfs(args);
    const tree = parseVersionTree(stdout, root, wanted);
    const sorted = new Map<string, FilesystemVersion[]>();
    for (const name of [...tree.keys()].sort(compareByComponents)) {
      if (recursive || name === root) sorted.set(name, tree.get(name) ?? []);
    }
    const read = properties.length === 0 ? new Map<string, Record<string, PropertyValue>>() : parseFilesystemProperties(stdout, properties);
    return { tree: sorted, properties: new Map([...read].filter(([name]) => sorted.has(name))) };
  }

  /**
   * What pruning reads of a tree (pruning.ts): each filesystem at (with `recursive`, below)
   * `root`, its snapshots with guid, createtxg, creation and userrefs, and its user properties
   * set locally whose names begin with `propertyPrefix` (the cursors of every job). Two `zfs get`s.
   * Missing root: DatasetNotFoundError.
   */
  async listPruneTree(root: string, opts: { recursive: boolean; propertyPrefix: string }): Promise<PruneTreeListing> {
    validateFilesystemName(root);
    const caps = await this.capabilities(root);
    const depth = opts.recursive ? ['-r'] : ['-d', '1'];
    const typeFilter = caps.getTypeFilter ? ['-t', 'filesystem,volume,snapshot'] : [];
    const [snapshotRows, localRows] = await Promise.all([
      this.exec.zfs(['get', '-H', '-p', '-o', 'name,property,value,source', ...depth, ...typeFilter, 'guid,createtxg,creation,userrefs', root]),
      // Local values only: an inherited cursor says nothing about this filesystem's holds (cursor.ts).
      this.exec.zfs([
        'get',
        '-H',
        '-p',
        '-o',
        'name,property,value,source',
        ...depth,
        ...(caps.getTypeFilter ? ['-t', 'filesystem,volume'] : []),
        '-s',
        'local',
        'all',
        root,
      ]),
    ]);
    return parsePruneTree(snapshotRows, localRows, root, opts);
  }

  /** `getProperties` for several datasets in one `zfs get`. */
  async getPropertiesOf(names: string[], props: string[]): Promise<Map<string, Record<string, PropertyValue>>> {
    names.forEach((name) => parseDatasetName(name));
    if (props.length === 0 || names.length === 0) return new Map();
    props.forEach(validatePropertyName);
    const stdout = await this.exec.zfs(['get', '-H', '-p', '-o', 'name,property,value,source', props.join(','), ...names]);
    return parsePropertiesByName(stdout);
  }

  /**
   * Property values and sources (`-p`: exact numbers). An unset user property reads as
   * value `-`, source `-`, as zfs prints it.
   */
  async getProperties(name: string, props: string[]): Promise<Record<string, PropertyValue>> {
    parseDatasetName(name);
    if (props.length === 0) return {};
    props.forEach(validatePropertyName);
    const stdout = await this.exec.zfs(['get', '-H', '-p', '-o', 'name,property,value,source', props.join(','), name]);
    return parseProperties(stdout, name);
  }

  /** `receive_resume_token` of a filesystem where the pool supports it, else undefined. */
  async getResumeToken(filesystem: string): Promise<string | undefined> {
    validateFilesystemName(filesystem);
    if (!(await this.capabilities(filesystem)).resumable) return undefined;
    const props = await this.getProperties(filesystem, ['receive_resume_token']);
    return valueOrUndefined(props['receive_resume_token']?.value);
  }

  /**
   * `receive_resume_token` of every filesystem at (with `recursive`, below) `root` that holds
   * an interrupted resumable receive; empty where the pool cannot resume.
   */
  async getResumeTokens(root: string, opts: { recursive?: boolean } = {}): Promise<Map<string, string>> {
    validateFilesystemName(root);
    const tokens = new Map<string, string>();
    if (!(await this.capabilities(root)).resumable) return tokens;
    const args = ['get', '-H', '-p', '-o', 'name,property,value,source', ...((opts.recursive ?? true) ? ['-r'] : []), 'receive_resume_token', root];
    for (const [name, props] of parsePropertiesByName(await this.exec.zfs(args))) {
      const token = valueOrUndefined(props['receive_resume_token']?.value);
      if (token !== undefined && !name.includes('@')) tokens.set(name, token);
    }
    return tokens;
  }

  /** Discards the partial state an interrupted resumable receive left (`zfs receive -A`). */
  async abortPartialReceive(filesystem: string): Promise<void> {
    validateFilesystemName(filesystem);
    if (!(await this.capabilities(filesystem)).resumable) return;
    await this.exec.zfs(['receive', '-A', filesystem]);
  }

  /** User holds on a snapshot; null where `zfs holds` does not work (read `userrefs` then). */
  async listHolds(snapshot: string): Promise<string[] | null> {
    validateSnapshotName(snapshot);
    if (!(await this.capabilities(snapshot)).holds) return null;
    return parseHolds(await this.exec.zfs(['holds', '-H', snapshot]), snapshot);
  }

  // ---------------------------------------------------------------- changes

  /**
   * Creates snapshots, atomically in one `zfs snapshot` where the zfs build takes several;
   * otherwise (zfs-fuse) one after the other, logged as not atomic. With `atomicOnly` nothing
   * is taken when one call cannot take them all (`taken: false`, and why): the caller decides.
   */
  async snapshot(
    fullNames: string[],
    opts: { recursive?: boolean; properties?: Record<string, string>; atomicOnly?: boolean } = {},
  ): Promise<{ taken: boolean; atomic: boolean; reason?: string }> {
    if (fullNames.length === 0) return { taken: true, atomic: true };
    fullNames.forEach((name) => validateSnapshotName(name));
    const pools = new Set(fullNames.map(poolOf));
    if (new Set(fullNames).size !== fullNames.length) {
      throw new InvalidNameError(fullNames.join(' '), 'the same snapshot is listed twice');
    }
    const flags: string[] = [];
    if (opts.recursive) flags.push('-r');
    for (const [prop, value] of Object.entries(opts.properties ?? {})) {
      validatePropertyName(prop);
      validatePropertyValue(prop, value);
      flags.push('-o', `${prop}=${value}`);
    }
    if (fullNames.length === 1) {
      await this.exec.zfs(['snapshot', ...flags, ...fullNames]);
      return { taken: true, atomic: true };
    }
    const firstPool = [...pools][0] as string;
    const caps = await this.capabilities(firstPool);
    if (caps.multiSnapshot && pools.size === 1) {
      await this.exec.zfs(['snapshot', ...flags, ...fullNames]);
      return { taken: true, atomic: true };
    }
    const reason = pools.size > 1 ? 'snapshots span several pools' : (caps.reasons.multiSnapshot ?? 'zfs takes one snapshot name per call');
    if (opts.atomicOnly === true) return { taken: false, atomic: false, reason };
    this.logger.info({ snapshots: fullNames, reason }, 'creating snapshots one by one (not atomic)');
    for (const name of fullNames) await this.exec.zfs(['snapshot', ...flags, name]);
    return { taken: true, atomic: false, reason };
  }

  /**
   * Destroys snapshots of one filesystem: `fs@a,b,c` batches where supported, one call each
   * otherwise. Snapshots that are already gone are not an error; a missing filesystem is.
   */
  async destroySnapshots(filesystem: string, names: string[]): Promise<void> {
    validateFilesystemName(filesystem);
    const unique = [...new Set(names)];
    unique.forEach((name) => validateShortName(name, 'snapshot'));
    if (unique.length === 0) return;
    const caps = await this.capabilities(filesystem);
    const batches: string[][] = [];
    if (caps.batchDestroy) {
      let current: string[] = [];
      let length = 0;
      for (const name of unique) {
        if (current.length > 0 && length + name.length + 1 > BATCH_DESTROY_MAX_CHARS) {
          batches.push(current);
          current = [];
          length = 0;
        }
        current.push(name);
        length += name.length + 1;
      }
      batches.push(current);
    } else {
      batches.push(...unique.map((name) => [name]));
    }
    for (const batch of batches) {
      try {
        await this.exec.zfs(['destroy', `${filesystem}@${batch.join(',')}`]);
      } catch (error) {
        if (error instanceof DatasetNotFoundError && (await this.exists(filesystem))) continue;
        throw error;
      }
    }
  }

  /** Destroys a filesystem, volume, snapshot or bookmark (`-r`: with descendants/children). */
  async destroy(name: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const parsed = parseDatasetName(name);
    const args = ['destroy'];
    if (opts.recursive) args.push('-r');
    args.push(name);
    await this.retryBusy(() => this.exec.zfs(args), parsed.kind === 'filesystem');
  }

  /** `zfs rollback [-r]`: with destroyNewer, snapshots newer than the target are destroyed. */
  async rollback(snapshotFullName: string, opts: { destroyNewer?: boolean } = {}): Promise<void> {
    validateSnapshotName(snapshotFullName);
    const args = ['rollback'];
    if (opts.destroyNewer) args.push('-r');
    args.push(snapshotFullName);
    await this.exec.zfs(args);
  }

  /**
   * `zfs hold`. With `recursive`, also every descendant filesystem's snapshot of the same
   * name (one transaction for the tree, where a list of names costs one per snapshot).
   */
  async hold(tag: string, snapshots: string[], opts: { recursive?: boolean } = {}): Promise<void> {
    validateHoldTag(tag);
    snapshots.forEach((s) => validateSnapshotName(s));
    if (snapshots.length === 0) return;
    await this.exec.zfs(['hold', ...(opts.recursive ? ['-r'] : []), tag, ...snapshots]);
  }

  /** `zfs release`; with `recursive` it fails as a whole when one descendant lacks the hold. */
  async release(tag: string, snapshots: string[], opts: { recursive?: boolean } = {}): Promise<void> {
    validateHoldTag(tag);
    snapshots.forEach((s) => validateSnapshotName(s));
    if (snapshots.length === 0) return;
    await this.exec.zfs(['release', ...(opts.recursive ? ['-r'] : []), tag, ...snapshots]);
  }

  /** Sets a user property (`module:name`) on a filesystem or snapshot. */
  async setUserProperty(name: string, prop: string, value: string): Promise<void> {
    await this.setUserPropertyOn([name], prop, value);
  }

  /** The same user property value on several datasets in one `zfs set`. */
  async setUserPropertyOn(names: string[], prop: string, value: string): Promise<void> {
    if (names.length === 0) return;
    names.forEach((name) => parseDatasetName(name));
    validateUserPropertyName(prop);
    validatePropertyValue(prop, value);
    await this.exec.zfs(['set', `${prop}=${value}`, ...names]);
  }

  /** `zfs inherit`: removes a local value (for a user property: removes it). */
  async inheritProperty(name: string, prop: string): Promise<void> {
    await this.inheritPropertyOn([name], prop);
  }

  /** `zfs inherit` of one property on several datasets in one command. */
  async inheritPropertyOn(names: string[], prop: string): Promise<void> {
    if (names.length === 0) return;
    names.forEach((name) => parseDatasetName(name));
    validatePropertyName(prop);
    await this.exec.zfs(['inherit', prop, ...names]);
  }

  /**
   * Renames a filesystem or a snapshot (within its filesystem). zfs-fuse refuses to rename a
   * mounted filesystem ("dataset is busy"): then the tree is unmounted, renamed and what was
   * mounted is mounted again.
   */
  async rename(from: string, to: string): Promise<void> {
    const src = parseDatasetName(from);
    const dst = parseDatasetName(to);
    if (src.kind !== dst.kind || src.kind === 'bookmark') {
      throw new InvalidNameError(to, `cannot rename a ${src.kind} to a ${dst.kind}`);
    }
    if (src.kind === 'snapshot' && src.filesystem !== dst.filesystem) {
      throw new InvalidNameError(to, 'a snapshot can only be renamed within its filesystem');
    }
    if (src.kind === 'filesystem' && isAtOrBelow(to, from)) {
      throw new InvalidNameError(to, 'cannot rename a filesystem below itself');
    }
    try {
      await this.exec.zfs(['rename', from, to]);
      return;
    } catch (error) {
      if (!(error instanceof DatasetBusyError) || src.kind !== 'filesystem') throw error;
    }
    const mounted = await this.mountedWithin(from);
    if (mounted.length === 0) {
      await this.retryBusy(() => this.exec.zfs(['rename', from, to]), true);
      return;
    }
    this.logger.debug({ from, to, mounted }, 'unmounting before rename');
    await this.retryBusy(() => this.exec.zfs(['unmount', from]), true);
    let renamed = false;
    try {
      // zfs-fuse may still be letting go of the mount (a FUSE lookup in flight): busy for a moment.
      await this.retryBusy(() => this.exec.zfs(['rename', from, to]), true);
      renamed = true;
    } finally {
      // Mount again what was mounted, under whichever name the tree now has.
      for (const name of mounted) {
        const current = renamed ? to + name.slice(from.length) : name;
        try {
          await this.exec.zfs(['mount', current]);
        } catch (error) {
          this.logger.warn({ dataset: current, err: error }, 'mounting again after rename failed');
        }
      }
    }
  }

  /** `zfs create [-p] [-o k=v]...`. */
  async create(name: string, opts: { properties?: Record<string, string>; parents?: boolean } = {}): Promise<void> {
    validateFilesystemName(name);
    const args = ['create'];
    if (opts.parents) args.push('-p');
    for (const [prop, value] of Object.entries(opts.properties ?? {})) {
      validatePropertyName(prop);
      validatePropertyValue(prop, value);
      args.push('-o', `${prop}=${value}`);
    }
    args.push(name);
    await this.exec.zfs(args);
  }

  // ---------------------------------------------------------------- streams

  /**
   * Starts `zfs send`. Throws synchronously (InvalidNameError, ZfsUnsupportedError when the
   * pool's capabilities are already known and rule a flag out); everything else arrives
   * through `done`.
   */
  send(opts: SendOptions): SendProcess {
    const args = buildSendArgs(opts, this.cachedCapabilities(opts.snapshot));
    return this.timedSend(
      startSend(this.exec.zfsBin, args, this.logger, {
        ...signalOf(opts),
        output: opts.readNow ? 'pipe-read-now' : 'pipe',
        onKilled: this.releaseHoldsOf(args),
      }),
    );
  }

  /** `zfs send` writing straight into `sink` (a pipe or socket with a file descriptor). */
  sendInto(opts: SendOptions, sink: Writable): DirectSendProcess {
    const args = buildSendArgs(opts, this.cachedCapabilities(opts.snapshot));
    return this.timedSend(startSend(this.exec.zfsBin, args, this.logger, { ...signalOf(opts), output: sink, onKilled: this.releaseHoldsOf(args) }));
  }

  /** What a send of `args` killed by a signal left held on zfs-fuse is released (send-holds.ts). */
  private releaseHoldsOf(args: readonly string[]): KilledSendHandler {
    return (pid) => releaseSendHolds(pid, args.slice(1), this, this.logger);
  }

  /** Tells the command observer how long the send ran, once it is done. */
  private timedSend<T extends DirectSendProcess>(send: T): T {
    const observer = this.exec.onCommand;
    if (observer === undefined) return send;
    const started = performance.now();
    const ended = (ok: boolean) => (): void => tell(observer, { subcommand: 'send', durationMs: performance.now() - started, ok });
    send.done.then(ended(true), ended(false));
    return send;
  }

  /**
   * How big the stream of `send(opts)` will be, for progress: `zfs send -n -P` where zfs has
   * it (exact: zfs's own estimate); else, for a full send, the snapshot's `referenced` size
   * (approximate: compression and metadata differ); else undefined.
   */
  async estimateSendSize(opts: Pick<SendOptions, 'snapshot' | 'from' | 'intermediates'>): Promise<SendSizeEstimate | undefined> {
    const caps = await this.capabilities(opts.snapshot);
    const sendArgs = buildSendArgs(opts, caps);
    if (caps.sendSizeEstimate) {
      const result = await this.exec.run(this.exec.zfsBin, ['send', '-n', '-P', ...sendArgs.slice(1)]);
      if (result.exitCode !== 0) throw errorFromResult(result);
      // Current OpenZFS prints the dry run on stdout; older releases printed it on stderr.
      const bytes = parseSendSize(result.stdout) ?? parseSendSize(result.stderr);
      return bytes === undefined ? undefined : { bytes, approximate: false };
    }
    if (opts.from !== undefined) return undefined;
    const referenced = (await this.getProperties(opts.snapshot, ['referenced']))['referenced']?.value;
    return referenced !== undefined && /^[0-9]+$/.test(referenced) ? { bytes: Number(referenced), approximate: true } : undefined;
  }

  /**
   * Receives `stream` into `opts.target` and verifies by guid that the expected snapshot
   * arrived (the exit code of `zfs recv` is not trusted either way). Owns `stream`: on any
   * failure it is destroyed, and the `zfs recv` process is gone when this settles.
   */
  async receive(opts: ReceiveOptions, stream: Readable): Promise<ReceiveResult> {
    try {
      validateReceiveOptions(opts);
      if (opts.signal?.aborted) throw abortedBeforeStart(opts);
      const caps = await this.capabilities(opts.target);
      const args = buildReceiveArgs(opts, caps, this.logger);
      if (!opts.targetChecked) await this.checkReceiveTarget(opts);
      if (opts.signal?.aborted) throw abortedBeforeStart(opts);

      const direct = directSendOf(stream);
      const feedStarted = performance.now();
      const outcome: DirectFeedOutcome = direct
        ? await feedReceiveDirect(this.exec.zfsBin, args, direct, this.logger, opts.signal, { largeStream: opts.incrementalBase === undefined })
        : await feedReceive(this.exec.zfsBin, args, stream, this.logger, opts.signal);
      tell(this.exec.onCommand, {
        subcommand: 'recv',
        durationMs: performance.now() - feedStarted,
        ok: outcome.exitCode === 0 && !outcome.aborted && outcome.spawnError === undefined,
      });
      // The stream object carried nothing on the direct route: let go of it.
      if (direct) stream.destroy();
      const { command } = outcome;
      // An abort that came after zfs had everything (exit 0) still gets verified below.
      if (outcome.aborted && outcome.exitCode !== 0) {
        throw new ZfsAbortedError(`zfs receive into ${opts.target} aborted${reasonText(outcome.abortReason)}`, {
          stderr: outcome.stderr,
          exitCode: outcome.exitCode,
          command,
          cause: outcome.abortReason,
        });
      }

      const result: ReceiveResult = {};
      if (outcome.streamBytes !== undefined) result.streamBytes = outcome.streamBytes;
      const clean = outcome.exitCode === 0 && !outcome.aborted && outcome.inputError === undefined && !outcome.spawnError;
      if (opts.deferVerification === true && clean) return result;
      const landed = await this.findReceived(opts);
      if (landed && landed.name === opts.snapshotName) {
        if (outcome.exitCode !== 0) {
          this.logger.warn(
            { target: opts.target, snapshot: landed.fullName, exitCode: outcome.exitCode, stderr: outcome.stderr.trim() },
            'zfs recv reported failure but the snapshot arrived (verified by guid)',
          );
        }
        result.version = landed;
        if (opts.resumable) {
          const token = await this.getResumeToken(opts.target).catch(() => undefined);
          if (token !== undefined) result.resumeToken = token;
        }
        return result;
      }
      if (landed) {
        throw new ReceiveVerificationError(`received guid ${opts.expectedGuid} into ${landed.fullName}, expected the name ${opts.snapshotName}`, {
          stderr: outcome.stderr,
          exitCode: outcome.exitCode,
          command,
        });
      }
      if (outcome.inputError !== undefined && outcome.exitCode !== 0) {
        throw new ZfsAbortedError(`zfs receive into ${opts.target} aborted: the input stream failed${reasonText(outcome.inputError)}`, {
          stderr: outcome.stderr,
          exitCode: outcome.exitCode,
          command,
          cause: outcome.inputError,
        });
      }
      if (outcome.exitCode !== 0 || outcome.spawnError) {
        const error = errorFromResult({ ...outcome, stdout: '' });
        if (opts.resumable) {
          const token = await this.getResumeToken(opts.target).catch(() => undefined);
          if (token !== undefined) error.resumeToken = token;
        }
        throw error;
      }
      throw new ReceiveVerificationError(`zfs recv exited 0 but ${opts.target}@${opts.snapshotName} with guid ${opts.expectedGuid} is not there`, {
        stderr: outcome.stderr,
        exitCode: outcome.exitCode,
        command,
      });
    } catch (error) {
      if (!stream.destroyed) stream.destroy();
      throw error;
    }
  }

  // ---------------------------------------------------------------- internals

  /**
   * Refuses receives that zfs would misdirect or that are already done:
   * an incremental needs the target and a snapshot with the base guid on it; a snapshot with
   * the expected guid must not already be there.
   */
  private async checkReceiveTarget(opts: ReceiveOptions): Promise<void> {
    let versions: FilesystemVersion[] | undefined;
    try {
      versions = await this.listVersions(opts.target, { types: ['snapshot'] });
    } catch (error) {
      if (!(error instanceof DatasetNotFoundError)) throw error;
    }
    const command = ['zfs', 'receive', opts.target];
    if (opts.incrementalBase) {
      if (!versions) {
        throw new DatasetNotFoundError(
          `refusing incremental receive: target ${opts.target} does not exist (zfs could apply the stream to another dataset holding the base)`,
          { command },
        );
      }
      const base = opts.incrementalBase.guid;
      if (!versions.some((v) => v.guid === base)) {
        throw new IncrementalSourceMissingError(`refusing incremental receive: ${opts.target} has no snapshot with the base guid ${base}`, { command });
      }
    }
    const already = versions?.find((v) => v.guid === opts.expectedGuid);
    if (already) {
      throw new DestinationExistsError(`refusing receive: ${already.fullName} already has guid ${opts.expectedGuid}`, { command });
    }
  }

  private async findReceived(opts: ReceiveOptions): Promise<FilesystemVersion | undefined> {
    // The expected name first: one object, however many snapshots the target has.
    const named = await this.getSnapshotVersion(`${opts.target}@${opts.snapshotName}`);
    if (named?.guid === opts.expectedGuid) return named;
    try {
      const versions = await this.listVersions(opts.target, { types: ['snapshot'] });
      return versions.find((v) => v.guid === opts.expectedGuid);
    } catch (error) {
      if (error instanceof DatasetNotFoundError) return undefined;
      throw error;
    }
  }

  /** Mounted filesystems at and below `root`, parents first. */
  private async mountedWithin(root: string): Promise<string[]> {
    const stdout = await this.exec.zfs(['get', '-H', '-r', '-o', 'name,property,value,source', 'mounted', root]);
    const mounted: string[] = [];
    for (const line of stdout.split('\n')) {
      const [name, , value] = line.split('\t');
      if (name && value === 'yes' && isAtOrBelow(name, root) && !name.includes('@')) mounted.push(name);
    }
    return mounted.sort(compareByComponents);
  }

  private async retryBusy<T>(operation: () => Promise<T>, enabled: boolean): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (!enabled || !(error instanceof DatasetBusyError) || attempt >= BUSY_RETRIES) throw error;
        this.logger.debug({ attempt, err: error.message }, 'dataset busy; retrying');
        await sleep(BUSY_RETRY_DELAY_MS);
      }
    }
  }
}

function compareByComponents(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function notFound(name: string): DatasetNotFoundError {
  return new DatasetNotFoundError(`${name}: dataset does not exist`, { command: ['zfs', 'list', name] });
}

function signalOf(opts: { signal?: AbortSignal | undefined }): { signal?: AbortSignal } {
  return opts.signal ? { signal: opts.signal } : {};
}

function abortedBeforeStart(opts: ReceiveOptions): ZfsAbortedError {
  return new ZfsAbortedError(`zfs receive into ${opts.target} aborted before it started${reasonText(opts.signal?.reason)}`, {
    cause: opts.signal?.reason,
  });
}

function reasonText(reason: unknown): string {
  if (reason === undefined) return '';
  return `: ${errorMessage(reason)}`;
}
