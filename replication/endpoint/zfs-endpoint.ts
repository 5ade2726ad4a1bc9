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
    async listVersionTree(req) {
      allow(req.root);
      try {
        const [tree, tokens] = await Promise.all([
          driver.listVersionTree(req.root, { recursive: req.recursive }),
          driver.getResumeTokens(req.root, { recursive: req.recursive }),
        ]);
        return {
          exists: true,
          filesystems: [...tree].map(([name, versions]) => ({ name, versions })),
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
      for (const move of req.moves) allow(move.filesystem);
      return moveCursors(driver, req.tag, req.moves);
    },
  };
}

/**
 * Holds each new base under `tag`, records it, and releases the tag from the previous base,
 * in a handful of zfs commands for the whole tree (the per-filesystem cost is what a cron job
 * over hundreds of datasets pays).
 */
async function moveCursors(
  driver: ZfsDriver,
  tag: string,
  moves: readonly { filesystem: string; snapshot: string }[],
): Promise<{ released: number }> {
  const property = cursorProperty(tag);
  const current = await driver.getPropertiesOf(
    moves.map((m) => m.filesystem),
    [property],
  );
  const changes = moves
    .map((move) => {
      const recorded = current.get(move.filesystem)?.[property];
      // User properties inherit: a parent's cursor is not this filesystem's.
      const previous = recorded?.source === 'local' ? parseCursorValue(recorded.value) : undefined;
      return { ...move, previous };
    })
    .filter((move) => move.previous !== move.snapshot);
  if (changes.length === 0) return { released: 0 };

  await eachOrAll(
    changes.map((c) => `${c.filesystem}@${c.snapshot}`),
    (snapshots) => driver.hold(tag, snapshots),
    (error) => error instanceof HoldExistsError,
  );
  const bySnapshot = new Map<string, string[]>();
  for (const change of changes) bySnapshot.set(change.snapshot, [...(bySnapshot.get(change.snapshot) ?? []), change.filesystem]);
  for (const [snapshot, filesystems] of bySnapshot) await driver.setUserPropertyOn(filesystems, property, formatCursorValue(snapshot));

  const stale = changes.filter((c) => c.previous !== undefined).map((c) => `${c.filesystem}@${c.previous}`);
  // Already gone (destroyed by hand after a release, or renamed): nothing left to protect.
  const released = await eachOrAll(stale, (snapshots) => driver.release(tag, snapshots), (error) => error instanceof HoldNotFoundError || error instanceof DatasetNotFoundError);
  return { released };
}

/**
 * Runs `operation` on all items in one command; when that fails (zfs stops at the first bad
 * item, possibly after applying some), once per item, ignoring the failures `ignorable` accepts.
 * Returns how many items the operation applied to without such a failure.
 */
async function eachOrAll(items: string[], operation: (items: string[]) => Promise<void>, ignorable: (error: unknown) => boolean): Promise<number> {
  if (items.length === 0) return 0;
  try {
    await operation(items);
    return items.length;
  } catch (error) {
    if (!ignorable(error)) throw error;
  }
  let applied = 0;
  for (const item of items) {
    try {
      await operation([item]);
      applied += 1;
    } catch (error) {
      if (!ignorable(error)) throw error;
    }
  }
  return applied;
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
