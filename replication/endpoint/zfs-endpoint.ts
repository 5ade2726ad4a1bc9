/**
 * The endpoint implementation on local ZFS: what `zferry serve` registers and what a
 * same-host job calls through LocalRPC. Both roles (sender and receiver) live here; the
 * planner never knows which placement it runs in.
 */

import { Transform, type Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Implementation } from '../../rpc/index.js';
import type { EndpointContract } from '../contract.js';
import {
  DatasetNotFoundError,
  HoldExistsError,
  HoldNotFoundError,
  isWithin,
  parentOf,
  type SendProcess,
  type ZfsDriver,
} from '../zfs/index.js';
import { cursorProperty, formatCursorValue, parseCursorValue } from './cursor.js';
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

  async function exists(filesystem: string): Promise<boolean> {
    return driver.exists(filesystem);
  }

  return {
    async listFilesystems(req) {
      allow(req.root);
      try {
        const filesystems = await driver.listFilesystems(req.root, { recursive: req.recursive });
        return { exists: true, filesystems };
      } catch (error) {
        if (error instanceof DatasetNotFoundError) return { exists: false, filesystems: [] };
        throw error;
      }
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

    async capabilities(req) {
      allow(req.filesystem);
      const caps = await driver.capabilities(req.filesystem);
      const reasons: Record<string, string> = {};
      for (const [key, value] of Object.entries(caps.reasons)) if (value !== undefined) reasons[key] = value;
      return { ...caps, reasons };
    },

    async snapshot(req) {
      for (const name of req.snapshots) allow(name);
      await driver.snapshot(req.snapshots, { recursive: req.recursive });
      return {};
    },

    async send(req, ctx) {
      allow(req.snapshot);
      if (req.from !== undefined) allow(req.from);
      await driver.capabilities(req.snapshot);
      const process = driver.send({
        snapshot: req.snapshot,
        ...(req.from !== undefined ? { from: req.from } : {}),
        intermediates: req.intermediates,
        ...(req.resumeToken !== undefined ? { resumeToken: req.resumeToken } : {}),
        signal: ctx.signal,
      });
      return { response: {}, stream: completedSendStream(process, logger) };
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
          unmounted: true,
          signal: ctx.signal,
        },
        stream,
      );
      return { version: result.version };
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
      const property = cursorProperty(req.tag);
      let released = 0;
      for (const move of req.moves) {
        allow(move.filesystem);
        const current = (await driver.getProperties(move.filesystem, [property]))[property];
        // User properties inherit: a parent's cursor is not this filesystem's.
        const previous = current?.source === 'local' ? parseCursorValue(current.value) : undefined;
        if (previous?.guid === move.guid) continue;
        try {
          await driver.hold(req.tag, [`${move.filesystem}@${move.snapshot}`]);
        } catch (error) {
          if (!(error instanceof HoldExistsError)) throw error;
        }
        await driver.setUserProperty(move.filesystem, property, formatCursorValue(move.guid, move.snapshot));
        if (previous) {
          try {
            await driver.release(req.tag, [`${move.filesystem}@${previous.snapshot}`]);
            released += 1;
          } catch (error) {
            // Already gone (destroyed by hand after release, or renamed): nothing to protect.
            if (!(error instanceof HoldNotFoundError || error instanceof DatasetNotFoundError)) throw error;
          }
        }
      }
      return { released };
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

/**
 * The send output as a stream that ends only once `zfs send` succeeded and errors when it
 * failed: the bare stdout also just ends when zfs dies, which a receiver would take for a
 * complete (and then invalid) stream. Destroying this stream aborts the send.
 */
function completedSendStream(process: SendProcess, logger: Logger): Readable {
  let finished = false;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, chunk);
    },
    flush(callback) {
      process.done.then(
        () => {
          finished = true;
          callback();
        },
        (error: unknown) => {
          finished = true;
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },
    highWaterMark: 1024 * 1024,
  });
  out.on('close', () => {
    if (!finished) {
      logger.debug({ command: process.command }, 'send stream closed early: aborting zfs send');
      process.abort(new Error('send stream closed by the consumer'));
    }
  });
  process.stream.on('error', (error) => out.destroy(error));
  process.stream.pipe(out);
  // The stream can fail before any byte flowed (bad snapshot): surface it on `out`.
  process.done.catch((error: unknown) => {
    if (!out.destroyed && process.stream.readableEnded) return;
    if (!out.destroyed) out.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  return out;
}
