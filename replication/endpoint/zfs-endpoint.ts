/**
 * The endpoint implementation on local ZFS: what `zferry serve` registers and what a
 * same-host job calls through LocalRPC. Both roles (sender and receiver) live here; the
 * planner never knows which placement it runs in.
 */

import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { errorMessage } from '../../platform/errors.js';
import type { Implementation } from '../../rpc/index.js';
import { enabledSendFlags, type EndpointContract, type SendFlags } from '../contract.js';
import { DatasetNotFoundError, decodeResumeToken, parentOf, poolOf, type ResumeToken, type SendOptions, type ZfsDriver } from '../zfs/index.js';
import { Confinement } from './confinement.js';
import { CURSOR_PROPERTY_PREFIX, recordedCursor, resolveCursors, settledCursor, type RecordedCursor } from './cursor.js';
import { PLACEHOLDER_PROPERTIES, PLACEHOLDER_PROPERTY, isPlaceholder, placeholderInUse } from './placeholder.js';
import { moveCursors } from './move-cursors.js';
import { createSendStream } from './send-stream.js';
import {
  ParentNotFoundError,
  PlaceholderInUseError,
  PoolNotFoundError,
  ResumeTokenMismatchError,
  ResumeTokenUnreadableError,
  RollbackMismatchError,
  TargetNotEmptyError,
} from './errors.js';

export interface ZfsEndpointOptions {
  driver: ZfsDriver;
  logger: Logger;
  /** When set, every dataset named by a caller must be one of these or below one of them. */
  roots?: readonly string[];
  /** Who is served (a client identity): every refusal names it, and is logged with it. */
  identity?: string;
  /**
   * A source's `filesystems` filter: listings show only the filesystems it selects, and every
   * call acting on a filesystem (send, snapshot, holds, cursors, pruning) refuses any other.
   * Placeholders are hidden from its listings (they hold nothing to send).
   */
  selects?: (filesystem: string) => boolean;
  /**
   * Whether missing parents are created as placeholders (PLACEHOLDER_PROPERTIES); default: when
   * `roots` are set (a served sink), so an unconfined local job's parents keep mounting as before.
   */
  placeholderParents?: boolean;
}

/** A target without snapshots referencing more than this is not an empty placeholder. */
const EMPTY_FILESYSTEM_MAX_REFERENCED = 1024 * 1024;

export function createZfsEndpoint(options: ZfsEndpointOptions): Implementation<EndpointContract> {
  const { driver, logger, identity } = options;
  const roots = options.roots ?? [];
  const confinement = new Confinement({ roots, identity, selects: options.selects, logger });
  const placeholderParents = options.placeholderParents ?? roots.length > 0;
  /** A source's listings leave placeholders out: they read the marker with the listing. */
  const hidesPlaceholders = options.selects !== undefined;

  /**
   * `zfs send -t` sends what the token names, whatever the request says, so the token must
   * name the requested snapshot. With roots it must also decode, and that snapshot must have
   * the token's guid: zfs looks the snapshot up by guid, from the named filesystem up through
   * its ancestors to the pool, so an allowed name paired with another snapshot's guid would
   * send that other snapshot. (The incremental base is found by guid too; it only decides
   * which blocks of the snapshot are left out, so it cannot leak data from outside.)
   */
  async function allowResumeToken(token: string, snapshot: string): Promise<void> {
    let decoded: ResumeToken;
    try {
      decoded = decodeResumeToken(token);
    } catch (error) {
      // Without confinement, zfs is the judge of a token we cannot read (a newer format, say).
      if (!confinement.confined) return;
      throw new ResumeTokenUnreadableError(error, identity);
    }
    if (confinement.confined) confinement.tokenSnapshot('send', decoded.toname);
    if (decoded.toname !== snapshot) throw new ResumeTokenMismatchError(snapshot, `it resumes ${decoded.toname}`, identity);
    if (!confinement.confined) return;
    const version = await driver.getSnapshotVersion(snapshot);
    if (version?.guid !== decoded.toguid) {
      throw new ResumeTokenMismatchError(
        snapshot,
        version === undefined ? 'no such snapshot' : `it resumes the snapshot with guid ${decoded.toguid}, not ${version.guid}`,
        identity,
      );
    }
  }

  /** The names of a send (or its estimate), each checked to lie within the served roots. */
  function allowedSend(call: string, req: { snapshot: string; from?: string | undefined; intermediates: boolean; flags?: SendFlags | undefined }): SendOptions {
    confinement.snapshot(call, req.snapshot);
    if (req.from !== undefined) confinement.version(call, req.from);
    return {
      snapshot: req.snapshot,
      ...(req.from !== undefined ? { from: req.from } : {}),
      intermediates: req.intermediates,
      // The driver refuses each flag where this zfs lacks it.
      ...enabledSendFlags(req.flags ?? {}),
    };
  }

  async function exists(filesystem: string): Promise<boolean> {
    return driver.exists(filesystem);
  }

  async function createParent(name: string): Promise<void> {
    try {
      await driver.create(name, placeholderParents ? { properties: { ...PLACEHOLDER_PROPERTIES } } : {});
    } catch (error) {
      // zfs exits 1 with "filesystem successfully created, but not mounted" where it cannot make
      // the mountpoint (a read-only parent), and another run may have just created it: either
      // way the parent is there, which is all a receive needs.
      if (!(await exists(name).catch(() => false))) throw error;
      logger.warn({ filesystem: name, err: error }, 'parent exists, although zfs create reported a failure');
    }
  }

  return {
    // What a served client is told of where it lands; a server that knows the client's
    // identity (daemon/serving) answers with it on top of this.
    session() {
      return Promise.resolve({ roots: [...roots] });
    },

    async listVersionTree(req) {
      confinement.within('listVersionTree', req.root);
      const property = req.cursorTag === undefined ? undefined : confinement.cursorProperty('listVersionTree', req.cursorTag);
      const formerTags = [...new Set(req.formerCursorTags ?? [])].filter((tag) => tag !== req.cursorTag);
      const formerProperties = formerTags.map((tag) => confinement.cursorProperty('listVersionTree', tag));
      try {
        const properties = [...(property === undefined ? [] : [property]), ...formerProperties, ...(hidesPlaceholders ? [PLACEHOLDER_PROPERTY] : [])];
        const [listing, allTokens] = await Promise.all([
          driver.listVersionTree(req.root, { recursive: req.recursive, properties }),
          driver.getResumeTokens(req.root, { recursive: req.recursive }),
        ]);
        const { properties: values } = listing;
        const shown = (name: string): boolean => confinement.serves(name) && !(hidesPlaceholders && isPlaceholder(values.get(name)?.[PLACEHOLDER_PROPERTY]));
        const tree = new Map([...listing.tree].filter(([name]) => shown(name)));
        const tokens = new Map([...allTokens].filter(([name]) => confinement.serves(name)));
        // Only local values count (an inherited one says nothing about this filesystem's holds);
        // one stored as the parent's is resolved within the whole listing (a parent left out of
        // the answer still holds the record), parents first.
        const recordsOf = (name: string): Map<string, RecordedCursor> =>
          resolveCursors(new Map([...listing.tree.keys()].map((filesystem) => [filesystem, recordedCursor(values.get(filesystem)?.[name])])));
        const records = property === undefined ? new Map<string, RecordedCursor>() : recordsOf(property);
        // A former tag's record counts however it is stored: whatever it names may carry a hold.
        const formerRecords = formerTags.map((tag, index) => ({ tag, records: recordsOf(formerProperties[index] ?? '') }));
        return {
          exists: true,
          filesystems: [...tree].map(([name, versions]) => {
            // A move that died halfway has no settled cursor: the job then moves it again.
            const cursor = settledCursor(records.get(name));
            const formerCursors = formerRecords.filter((former) => former.records.has(name)).map((former) => former.tag);
            return { name, versions, ...(cursor !== undefined ? { cursor } : {}), ...(formerCursors.length > 0 ? { formerCursors } : {}) };
          }),
          resumeTokens: Object.fromEntries(tokens),
        };
      } catch (error) {
        if (error instanceof DatasetNotFoundError) return { exists: false, filesystems: [], resumeTokens: {} };
        throw error;
      }
    },

    async poolIdentity(req) {
      confinement.within('poolIdentity', req.filesystem);
      return { guid: (await driver.poolGuid(req.filesystem)) ?? null };
    },

    async abortPartialReceive(req) {
      confinement.filesystem('abortPartialReceive', req.filesystem);
      await driver.abortPartialReceive(req.filesystem);
      return {};
    },

    async listVersions(req) {
      confinement.filesystem('listVersions', req.filesystem);
      const caps = await driver.capabilities(req.filesystem).catch(() => undefined);
      try {
        const versions = await driver.listVersions(req.filesystem, {
          types: caps?.bookmarks ? ['snapshot', 'bookmark'] : ['snapshot'],
        });
        const response: { versions: typeof versions; resumeToken?: string } = { versions };
        if (caps?.resumable) {
          const token = await driver.getResumeToken(req.filesystem);
          if (token !== undefined) response.resumeToken = token;
        }
        return response;
      } catch (error) {
        if (error instanceof DatasetNotFoundError) return { versions: null };
        throw error;
      }
    },

    async snapshot(req) {
      for (const name of req.snapshots) confinement.snapshot('snapshot', name);
      // A recursive snapshot reaches every filesystem below: on a source, each must be served too.
      if (req.recursive && options.selects !== undefined) {
        for (const name of req.snapshots) {
          const below = await driver.listFilesystems(name.slice(0, name.indexOf('@')), { recursive: true });
          for (const filesystem of below) confinement.filesystem('snapshot', filesystem);
        }
      }
      const result = await driver.snapshot(req.snapshots, { recursive: req.recursive, ...(req.atomicOnly === true ? { atomicOnly: true } : {}) });
      return { taken: result.taken, atomic: result.atomic, ...(result.reason !== undefined ? { reason: result.reason.slice(0, 1000) } : {}) };
    },

    async estimateSend(req) {
      const estimate = await driver.estimateSendSize(allowedSend('estimateSend', req));
      return { bytes: estimate?.bytes ?? null, approximate: estimate?.approximate ?? false };
    },

    async send(req, ctx) {
      const names = allowedSend('send', req);
      if (req.resumeToken !== undefined) {
        await allowResumeToken(req.resumeToken, req.snapshot).catch((error: unknown) => {
          // Names outside are logged by the confinement; the token's own refusals here.
          const tokenRefused = error instanceof ResumeTokenMismatchError || error instanceof ResumeTokenUnreadableError;
          if (confinement.confined && tokenRefused)
            logger.warn({ identity, call: 'send', name: req.snapshot, refused: errorMessage(error) }, 'refused a resume token');
          throw error;
        });
      }
      await driver.capabilities(req.snapshot);
      const options = {
        ...names,
        ...(req.resumeToken !== undefined ? { resumeToken: req.resumeToken } : {}),
        signal: ctx.signal,
      };
      // The send stream reads the pipe from the moment it starts zfs send (readNow).
      const starters = { piped: () => driver.send({ ...options, readNow: true }), into: (sink: Writable) => driver.sendInto(options, sink) };
      return { response: {}, stream: createSendStream(starters, logger, `zfs send ${req.snapshot}`) };
    },

    async receive(req, stream, ctx) {
      confinement.filesystem('receive', req.target);
      confinement.shortName('receive', req.snapshotName);
      const ontoPlaceholder = req.force && req.incrementalBase === undefined && (await refuseNonEmptyTarget(driver, req.target)) === 'placeholder';
      const receiving = driver.receive(
        {
          target: req.target,
          snapshotName: req.snapshotName,
          expectedGuid: req.expectedGuid,
          ...(req.incrementalBase ? { incrementalBase: req.incrementalBase } : {}),
          force: req.force,
          resumable: req.resumable,
          ...(req.targetChecked !== undefined ? { targetChecked: req.targetChecked } : {}),
          ...(req.deferVerification !== undefined ? { deferVerification: req.deferVerification } : {}),
          unmounted: true,
          signal: ctx.signal,
        },
        stream,
      );
      const result = await receiving.catch((error: unknown) => explainReceiveFailure(driver, req, error));
      // A full receive over a placeholder keeps its local properties: it is a real filesystem now.
      if (ontoPlaceholder) await driver.inheritProperty(req.target, PLACEHOLDER_PROPERTY);
      return {
        ...(result.version !== undefined ? { version: result.version } : {}),
        ...(result.streamBytes !== undefined ? { streamBytes: result.streamBytes } : {}),
      };
    },

    async verifyReceived(req) {
      for (const name of req.snapshots) confinement.snapshot('verifyReceived', name);
      const found = await driver.findReceivedSnapshots(req.snapshots);
      return { versions: req.snapshots.map((snapshot) => found.get(snapshot) ?? null) };
    },

    async rollback(req) {
      confinement.snapshot('rollback', req.snapshot);
      const [filesystem, name] = req.snapshot.split('@') as [string, string];
      const versions = await driver.listVersions(filesystem, { types: ['snapshot'] });
      const found = versions.find((v) => v.name === name);
      if (found?.guid !== req.expectedGuid) throw new RollbackMismatchError(req.snapshot, req.expectedGuid, found?.guid);
      await driver.rollback(req.snapshot, { destroyNewer: true });
      return {};
    },

    async rename(req) {
      confinement.renameAside('rename', req.from, req.to);
      await driver.rename(req.from, req.to);
      return {};
    },

    async ensureParent(req) {
      confinement.filesystem('ensureParent', req.filesystem);
      const created: string[] = [];
      const missing: string[] = [];
      for (let parent = parentOf(req.filesystem); parent !== undefined; parent = parentOf(parent)) {
        if (await exists(parent)) break;
        missing.unshift(parent);
      }
      // The walk reached a missing pool root: `zfs create` would only say "missing dataset name".
      if (missing[0] !== undefined && parentOf(missing[0]) === undefined) throw new PoolNotFoundError(missing[0], req.filesystem);
      for (const name of missing) {
        confinement.within('ensureParent', name);
        await createParent(name);
        created.push(name);
      }
      return { created };
    },

    async listPruneTree(req) {
      confinement.within('listPruneTree', req.root);
      try {
        const listed = await driver.listPruneTree(req.root, { recursive: req.recursive, propertyPrefix: CURSOR_PROPERTY_PREFIX });
        const listing = listed.filter((fs) => confinement.serves(fs.name));
        // Each tag's records, resolved within the listing like listVersionTree's (AS_PARENT → the parent's).
        const tags = new Set(listing.flatMap((fs) => Object.keys(fs.properties)));
        const recordsByProperty = new Map(
          [...tags].map((property) => [property, resolveCursors(new Map(listing.map((fs) => [fs.name, recordedCursor(fs.properties[property])])))]),
        );
        return {
          exists: true,
          filesystems: listing.map((fs) => ({
            name: fs.name,
            snapshots: fs.snapshots,
            cursors: [...recordsByProperty].flatMap(([property, records]) => {
              const snapshot = records.get(fs.name)?.snapshot;
              const tag = property.slice(CURSOR_PROPERTY_PREFIX.length);
              return snapshot === undefined || !/^zferry_[A-Za-z0-9_.:-]{1,200}$/.test(tag) ? [] : [{ tag, snapshot }];
            }),
          })),
        };
      } catch (error) {
        if (error instanceof DatasetNotFoundError) return { exists: false, filesystems: [] };
        throw error;
      }
    },

    async destroySnapshots(req) {
      confinement.filesystem('destroySnapshots', req.filesystem);
      for (const { name } of req.snapshots) confinement.shortName('destroySnapshots', name);
      const expected = new Map(req.snapshots.map((s) => [s.name, s.guid]));
      const now = await currentSnapshots(driver, req.filesystem, [...expected.keys()]);
      const refused: Array<{ name: string; reason: string }> = [];
      const destroy: string[] = [];
      const gone: string[] = [];
      for (const [name, guid] of expected) {
        const found = now.get(name);
        if (found === undefined) gone.push(name);
        else if (found.guid !== guid) refused.push({ name, reason: `its guid is now ${found.guid}, not ${guid}` });
        else if (found.userrefs > 0) refused.push({ name, reason: `held (${found.userrefs} hold${found.userrefs === 1 ? '' : 's'})` });
        else destroy.push(name);
      }
      await driver.destroySnapshots(req.filesystem, destroy);
      return { destroyed: [...destroy, ...gone], refused };
    },

    async moveCursors(req) {
      confinement.cursorProperty('moveCursors', req.tag);
      for (const tag of req.formerTags ?? []) confinement.cursorProperty('moveCursors', tag);
      for (const move of req.moves) {
        confinement.filesystem('moveCursors', move.filesystem);
        confinement.shortName('moveCursors', move.snapshot);
      }
      if (req.root !== undefined) confinement.within('moveCursors', req.root);
      return moveCursors(driver, req.tag, req.moves, req.root, req.formerTags);
    },
  };
}

/**
 * A full receive into a filesystem whose parent (or pool) is missing fails with zfs's "dataset
 * does not exist" about the target itself: name what is actually missing. Always throws.
 */
async function explainReceiveFailure(driver: ZfsDriver, req: { target: string; incrementalBase?: unknown }, error: unknown): Promise<never> {
  const parent = parentOf(req.target);
  if (!(error instanceof DatasetNotFoundError) || req.incrementalBase !== undefined || parent === undefined) throw error;
  // Only a definite answer replaces zfs's own message.
  if (await driver.exists(parent).catch(() => true)) throw error;
  if ((await driver.poolGuid(req.target).catch(() => '')) === undefined) throw new PoolNotFoundError(poolOf(req.target), req.target, { cause: error });
  throw new ParentNotFoundError(req.target, parent, { cause: error });
}

/**
 * Refuses `recv -F` over a filesystem that has no snapshots but does hold data. A placeholder
 * (placeholder.ts) is received over only while it and everything below it are placeholders
 * without snapshots. Says what the target is.
 */
async function refuseNonEmptyTarget(driver: ZfsDriver, target: string): Promise<'missing' | 'placeholder' | 'empty' | 'has-snapshots'> {
  if (!(await driver.exists(target))) return 'missing';
  const versions = await driver.listVersions(target, { types: ['snapshot'] });
  if (versions.length > 0) return 'has-snapshots';
  const props = await driver.getProperties(target, ['referenced', PLACEHOLDER_PROPERTY]);
  if (isPlaceholder(props[PLACEHOLDER_PROPERTY])) {
    const inUse = await placeholderInUse(driver, target);
    if (inUse !== undefined) throw new PlaceholderInUseError(target, inUse);
    return 'placeholder';
  }
  const referenced = Number(props['referenced']?.value ?? '0');
  if (referenced > EMPTY_FILESYSTEM_MAX_REFERENCED) throw new TargetNotEmptyError(target, referenced);
  return 'empty';
}

/** Snapshots looked up per `zfs get` when re-checking before a destroy. */
const SNAPSHOTS_PER_CHECK = 64;

/** The guid and userrefs of each named snapshot of `filesystem` as they are now; a missing one is absent. */
async function currentSnapshots(driver: ZfsDriver, filesystem: string, names: readonly string[]): Promise<Map<string, { guid: string; userrefs: number }>> {
  const found = new Map<string, { guid: string; userrefs: number }>();
  const read = async (batch: readonly string[]): Promise<void> => {
    const values = await driver.getPropertiesOf(
      batch.map((name) => `${filesystem}@${name}`),
      ['guid', 'userrefs'],
    );
    for (const name of batch) {
      const props = values.get(`${filesystem}@${name}`);
      const guid = props?.['guid']?.value;
      if (guid === undefined) continue;
      const userrefs = Number(props?.['userrefs']?.value ?? '0');
      found.set(name, { guid, userrefs: Number.isFinite(userrefs) ? userrefs : 1 });
    }
  };
  for (let at = 0; at < names.length; at += SNAPSHOTS_PER_CHECK) {
    const batch = names.slice(at, at + SNAPSHOTS_PER_CHECK);
    try {
      await read(batch);
    } catch (error) {
      if (!(error instanceof DatasetNotFoundError)) throw error;
      // One of them is gone: ask one by one, so each gets its own answer.
      for (const name of batch)
        await read([name]).catch((inner: unknown) => {
          if (!(inner instanceof DatasetNotFoundError)) throw inner;
        });
    }
  }
  return found;
}
