/**
 * The endpoint implementation on local ZFS: what `zferry serve` registers and what a
 * same-host job calls through LocalRPC. Both roles (sender and receiver) live here; the
 * planner never knows which placement it runs in.
 */

import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Implementation } from '../../rpc/index.js';
import { enabledSendFlags, type EndpointContract, type SendFlags } from '../contract.js';
import {
  DatasetNotFoundError,
  isWithin,
  parentOf,
  type SendOptions,
  type ZfsDriver,
} from '../zfs/index.js';
import { cursorProperty, recordedCursor, resolveCursors, settledCursor, type RecordedCursor } from './cursor.js';
import { moveCursors } from './move-cursors.js';
import { createSendStream } from './send-stream.js';
import { OutsideRootError, RollbackMismatchError, TargetNotEmptyError } from './errors.js';

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

  function allow(name: string): void {
    const filesystem = name.split(/[@#]/)[0] ?? name;
    if (roots.length > 0 && !roots.some((root) => isWithin(root, filesystem))) {
      throw new OutsideRootError(filesystem, roots);
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

  return {
    async listVersionTree(req) {
      allow(req.root);
      try {
        const property = req.cursorTag === undefined ? undefined : cursorProperty(req.cursorTag);
        const [{ tree, properties }, tokens] = await Promise.all([
          driver.listVersionTree(req.root, { recursive: req.recursive, properties: property === undefined ? [] : [property] }),
          driver.getResumeTokens(req.root, { recursive: req.recursive }),
        ]);
        // Only local values count (an inherited one says nothing about this filesystem's holds);
        // one stored as the parent's is resolved within the listing, parents first.
        const records =
          property === undefined ? new Map<string, RecordedCursor>() : resolveCursors(new Map([...tree.keys()].map((name) => [name, recordedCursor(properties.get(name)?.[property])])));
        return {
          exists: true,
          filesystems: [...tree].map(([name, versions]) => {
            // A move that died halfway has no settled cursor: the job then moves it again.
            const cursor = settledCursor(records.get(name));
            return { name, versions, ...(cursor !== undefined ? { cursor } : {}) };
          }),
          resumeTokens: Object.fromEntries(tokens),
        };
      } catch (error) {
        if (error instanceof DatasetNotFoundError) return { exists: false, filesystems: [], resumeTokens: {} };
        throw error;
      }
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
      await driver.snapshot(req.snapshots, { recursive: req.recursive });
      return {};
    },

    async estimateSend(req) {
      const estimate = await driver.estimateSendSize(allowedSend(req));
      return { bytes: estimate?.bytes ?? null, approximate: estimate?.approximate ?? false };
    },

    async send(req, ctx) {
      const names = allowedSend(req);
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
      const result = await driver.receive(
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
      return {
        ...(result.version !== undefined ? { version: result.version } : {}),
        ...(result.streamBytes !== undefined ? { streamBytes: result.streamBytes } : {}),
      };
    },

    async verifyReceived(req) {
      req.snapshots.forEach(allow);
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
      for (const name of missing) {
        allow(name);
        await driver.create(name);
        created.push(name);
      }
      return { created };
    },

    async moveCursors(req) {
      for (const move of req.moves) allow(move.filesystem);
      if (req.root !== undefined) allow(req.root);
      return moveCursors(driver, req.tag, req.moves, req.root);
    },
  };
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

