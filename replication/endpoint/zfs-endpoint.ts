/**
 * The endpoint implementation on local ZFS: what `zferry serve` registers and what a
 * same-host job calls through LocalRPC. Both roles (sender and receiver) live here; the
 * planner never knows which placement it runs in.
 */

import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Implementation } from '../../rpc/index.js';
import { enabledSendFlags, type EndpointContract, type SendFlags } from '../contract.js';
import { DatasetNotFoundError, decodeResumeToken, isAtOrBelow, parentOf, poolOf, type ResumeToken, type SendOptions, type ZfsDriver } from '../zfs/index.js';
import { CURSOR_PROPERTY_PREFIX, cursorProperty, recordedCursor, resolveCursors, settledCursor, type RecordedCursor } from './cursor.js';
import { moveCursors } from './move-cursors.js';
import { createSendStream } from './send-stream.js';
import {
  OutsideRootError,
  ParentNotFoundError,
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
}

/** A target without snapshots referencing more than this is not an empty placeholder. */
const EMPTY_FILESYSTEM_MAX_REFERENCED = 1024 * 1024;

export function createZfsEndpoint(options: ZfsEndpointOptions): Implementation<EndpointContract> {
  const { driver, logger } = options;
  const roots = options.roots ?? [];

  function allow(name: string, via?: string): void {
    const filesystem = name.split(/[@#]/)[0] ?? name;
    if (roots.length > 0 && !roots.some((root) => isAtOrBelow(filesystem, root))) {
      throw new OutsideRootError(filesystem, roots, via);
    }
  }

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
      // Without roots, zfs is the judge of a token we cannot read (a newer format, say).
      if (roots.length === 0) return;
      throw new ResumeTokenUnreadableError(error);
    }
    allow(decoded.toname, 'the resume token names');
    if (decoded.toname !== snapshot) throw new ResumeTokenMismatchError(snapshot, `it resumes ${decoded.toname}`);
    if (roots.length === 0) return;
    const version = await driver.getSnapshotVersion(snapshot);
    if (version?.guid !== decoded.toguid) {
      throw new ResumeTokenMismatchError(
        snapshot,
        version === undefined ? 'no such snapshot' : `it resumes the snapshot with guid ${decoded.toguid}, not ${version.guid}`,
      );
    }
  }

  /** The names of a send (or its estimate), each checked to lie within the served roots. */
  function allowedSend(req: { snapshot: string; from?: string | undefined; intermediates: boolean; flags?: SendFlags | undefined }): SendOptions {
    allow(req.snapshot);
    if (req.from !== undefined) allow(req.from);
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
      await driver.create(name);
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
      allow(req.root);
      try {
        const property = req.cursorTag === undefined ? undefined : cursorProperty(req.cursorTag);
        const formerTags = [...new Set(req.formerCursorTags ?? [])].filter((tag) => tag !== req.cursorTag);
        const properties = [...(property === undefined ? [] : [property]), ...formerTags.map(cursorProperty)];
        const [{ tree, properties: values }, tokens] = await Promise.all([
          driver.listVersionTree(req.root, { recursive: req.recursive, properties }),
          driver.getResumeTokens(req.root, { recursive: req.recursive }),
        ]);
        // Only local values count (an inherited one says nothing about this filesystem's holds);
        // one stored as the parent's is resolved within the listing, parents first.
        const recordsOf = (name: string): Map<string, RecordedCursor> =>
          resolveCursors(new Map([...tree.keys()].map((filesystem) => [filesystem, recordedCursor(values.get(filesystem)?.[name])])));
        const records = property === undefined ? new Map<string, RecordedCursor>() : recordsOf(property);
        // A former tag's record counts however it is stored: whatever it names may carry a hold.
        const formerRecords = formerTags.map((tag) => ({ tag, records: recordsOf(cursorProperty(tag)) }));
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
      allow(req.filesystem);
      return { guid: (await driver.poolGuid(req.filesystem)) ?? null };
    },

    async abortPartialReceive(req) {
      allow(req.filesystem);
      await driver.abortPartialReceive(req.filesystem);
      return {};
    },

    async listVersions(req) {
      allow(req.filesystem);
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
      for (const name of req.snapshots) allow(name);
      const result = await driver.snapshot(req.snapshots, { recursive: req.recursive, ...(req.atomicOnly === true ? { atomicOnly: true } : {}) });
      return { taken: result.taken, atomic: result.atomic, ...(result.reason !== undefined ? { reason: result.reason.slice(0, 1000) } : {}) };
    },

    async estimateSend(req) {
      const estimate = await driver.estimateSendSize(allowedSend(req));
      return { bytes: estimate?.bytes ?? null, approximate: estimate?.approximate ?? false };
    },

    async send(req, ctx) {
      const names = allowedSend(req);
      if (req.resumeToken !== undefined) await allowResumeToken(req.resumeToken, req.snapshot);
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
      allow(req.target);
      if (req.force && req.incrementalBase === undefined) {
        await refuseNonEmptyTarget(driver, req.target);
      }
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
      return {
        ...(result.version !== undefined ? { version: result.version } : {}),
        ...(result.streamBytes !== undefined ? { streamBytes: result.streamBytes } : {}),
      };
    },

    async verifyReceived(req) {
      for (const name of req.snapshots) allow(name);
      const found = await driver.findReceivedSnapshots(req.snapshots);
      return { versions: req.snapshots.map((snapshot) => found.get(snapshot) ?? null) };
    },

    async rollback(req) {
      allow(req.snapshot);
      const [filesystem, name] = req.snapshot.split('@') as [string, string];
      const versions = await driver.listVersions(filesystem, { types: ['snapshot'] });
      const found = versions.find((v) => v.name === name);
      if (found?.guid !== req.expectedGuid) throw new RollbackMismatchError(req.snapshot, req.expectedGuid, found?.guid);
      await driver.rollback(req.snapshot, { destroyNewer: true });
      return {};
    },

    async rename(req) {
      allow(req.from);
      allow(req.to);
      await driver.rename(req.from, req.to);
      return {};
    },

    async ensureParent(req) {
      allow(req.filesystem);
      const created: string[] = [];
      const missing: string[] = [];
      for (let parent = parentOf(req.filesystem); parent !== undefined; parent = parentOf(parent)) {
        if (await exists(parent)) break;
        missing.unshift(parent);
      }
      // The walk reached a missing pool root: `zfs create` would only say "missing dataset name".
      if (missing[0] !== undefined && parentOf(missing[0]) === undefined) throw new PoolNotFoundError(missing[0], req.filesystem);
      for (const name of missing) {
        allow(name);
        await createParent(name);
        created.push(name);
      }
      return { created };
    },

    async listPruneTree(req) {
      allow(req.root);
      try {
        const listing = await driver.listPruneTree(req.root, { recursive: req.recursive, propertyPrefix: CURSOR_PROPERTY_PREFIX });
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
      allow(req.filesystem);
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
      for (const move of req.moves) allow(move.filesystem);
      if (req.root !== undefined) allow(req.root);
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

/** Refuses `recv -F` over a filesystem that has no snapshots but does hold data. */
async function refuseNonEmptyTarget(driver: ZfsDriver, target: string): Promise<void> {
  if (!(await driver.exists(target))) return;
  const versions = await driver.listVersions(target, { types: ['snapshot'] });
  if (versions.length > 0) return;
  const props = await driver.getProperties(target, ['referenced']);
  const referenced = Number(props['referenced']?.value ?? '0');
  if (referenced > EMPTY_FILESYSTEM_MAX_REFERENCED) throw new TargetNotEmptyError(target, referenced);
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
