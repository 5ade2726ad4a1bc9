/**
 * One writer per target. Two zferry processes (a daemon, `zferry run`, a one-shot push or pull)
 * replicating into the same target at once would read each other's half-done receives as the
 * target's state: a full receive in progress looks like a target that holds data without
 * snapshots. So a run locks its target before it lists it, and holds the lock to the end.
 *
 * The lock lives where the job runs, keyed by the target's canonical name (JobSpec.destination:
 * `local://host/pool/x`, `ssh://user@host:port/pool/x`), so every spelling of one target is one
 * lock. It is an abstract unix socket (lock-sockets.ts): the kernel frees it when its process
 * dies, however it dies. Runs into a filesystem above or below the target write the same
 * filesystems (a recursive run, a parent created, a target renamed aside with its children), so
 * once bound, a run also asks every other holder on the host what it replicates into and backs
 * off from an ancestor or descendant of its own target.
 *
 * Mutual exclusion without ordering: of two overlapping runs, the one that bound second looks
 * after both are bound and sees the first (which holds its name until it ends), so at most one
 * of them proceeds; when both see each other, both let go and retry after a random pause.
 *
 * Not covered: two hosts replicating into one remote target (each host has its own locks), one
 * target reached under two names (`local://` on the target host and `ssh://` from elsewhere, or
 * two ssh users), and processes in different network namespaces. Linux only: elsewhere the lock
 * is not taken.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type net from 'node:net';
import type { RunContext } from './context.js';
import { TargetBusyError, type BusyRelation } from './errors.js';
import { bindLock, describeLock, heldLockNames, lockNameOf, unbindLock, type LockHolder } from './lock-sockets.js';

/** How long a run waits for another run's lock on its target before it fails (TARGET_BUSY). */
export const DEFAULT_TARGET_LOCK_WAIT_MS = 5000;
/** Pause between tries, randomised so that two runs that keep meeting fall out of step. */
const RETRY_MIN_MS = 50;
const RETRY_SPREAD_MS = 150;

export interface TargetLockRequest {
  /** The target's canonical name (JobSpec.destination): what is locked. */
  destination: string;
  /** The target as the user knows it (the dataset), for messages; the destination if not given. */
  target?: string;
  job: string;
  /** What runs, for whoever finds the target busy (`zferry push tank/a backup/a`). */
  command?: string;
  /** How long to wait for a busy target; 0 tries once. */
  waitMs?: number;
  /** Stops the wait (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Told once, when the target is found busy and the wait begins. */
  onWait?: (holder: LockHolder | undefined) => void;
}

export interface TargetLock {
  /** What this lock tells whoever finds the target busy. */
  readonly holder: LockHolder;
  /** Lets the target go; once resolved, another run can take it. Safe to call again. */
  release(): Promise<void>;
}

/** Why one try did not get the lock. */
interface Busy {
  holder: LockHolder | undefined;
  relation: BusyRelation;
}

/** Locks `request.destination`, waiting up to `waitMs` for a run into it (or above or below it) to end. */
export async function acquireTargetLock(request: TargetLockRequest): Promise<TargetLock> {
  const holder: LockHolder = {
    pid: process.pid,
    job: request.job,
    destination: request.destination,
    since: new Date().toISOString(),
    ...(request.command !== undefined ? { command: request.command } : {}),
  };
  if (process.platform !== 'linux') return { holder, release: () => Promise.resolve() };
  const name = lockNameOf(request.destination);
  const deadline = Date.now() + (request.waitMs ?? DEFAULT_TARGET_LOCK_WAIT_MS);
  let waiting = false;
  for (;;) {
    request.signal?.throwIfAborted();
    const tried = await tryLock(name, holder);
    if ('server' in tried) return heldLock(holder, tried.server);
    if (Date.now() >= deadline) throw new TargetBusyError(request.target ?? request.destination, tried.holder, tried.relation);
    if (!waiting) {
      waiting = true;
      request.onWait?.(tried.holder);
    }
    const pause = RETRY_MIN_MS + Math.random() * RETRY_SPREAD_MS;
    const signal = request.signal !== undefined ? { signal: request.signal } : {};
    // Rejects with the signal's own reason (timers' AbortError only wraps it).
    await sleep(Math.max(0, Math.min(pause, deadline - Date.now())), undefined, signal).catch(() => request.signal?.throwIfAborted());
  }
}

/** Binds the target's name, then makes sure no other run holds a filesystem above or below it. */
async function tryLock(name: string, holder: LockHolder, again = true): Promise<{ server: net.Server } | Busy> {
  holder.since = new Date().toISOString();
  const server = await bindLock(name, holder);
  if (server === undefined) {
    const found = await describeLock(name);
    // Let go between our bind and our question: try at once (once: a name bound by something
    // that does not listen stays taken).
    if (found.state === 'free' && again) return tryLock(name, holder, false);
    return { holder: found.state === 'held' ? found.holder : undefined, relation: 'same' };
  }
  const overlapping = await findOverlapping(name, holder.destination);
  if (overlapping === undefined) return { server };
  await unbindLock(server);
  return overlapping;
}

/**
 * Another holder whose target is an ancestor or descendant of `destination`. A holder that
 * cannot say what it holds might be one: it counts as busy (an unknown holder, not named).
 */
async function findOverlapping(ownName: string, destination: string): Promise<Busy | undefined> {
  const names = (await heldLockNames()).filter((name) => name !== ownName);
  const states = await Promise.all(names.map((name) => describeLock(name)));
  for (const found of states) {
    if (found.state !== 'held') continue;
    const theirs = found.holder.destination;
    if (theirs === destination) return { holder: found.holder, relation: 'same' };
    if (destination.startsWith(`${theirs}/`)) return { holder: found.holder, relation: 'inside' };
    if (theirs.startsWith(`${destination}/`)) return { holder: found.holder, relation: 'contains' };
  }
  return states.some((found) => found.state === 'unknown') ? { holder: undefined, relation: 'unanswered' } : undefined;
}

function heldLock(holder: LockHolder, server: net.Server): TargetLock {
  let released: Promise<void> | undefined;
  return {
    holder,
    release: () => (released ??= unbindLock(server)),
  };
}

/**
 * The lock of one run on its target, taken before anything reads or changes the target. A dry
 * run waits for the target like a real run (its plan would otherwise describe another run's
 * receive in progress), then lets go at once: it changes nothing, so it never holds a real run up.
 */
export async function lockRunTarget(run: RunContext): Promise<TargetLock> {
  const { spec } = run;
  const lock = await acquireTargetLock({
    destination: spec.destination,
    target: spec.target,
    job: spec.name,
    ...(spec.lock?.command !== undefined ? { command: spec.lock.command } : {}),
    waitMs: spec.lock?.waitMs ?? DEFAULT_TARGET_LOCK_WAIT_MS,
    ...(run.signal !== undefined ? { signal: run.signal } : {}),
    onWait: (holder) => run.logger.info({ target: spec.target, holder }, 'another zferry is replicating into the target: waiting'),
  });
  if (spec.dryRun) await lock.release();
  return lock;
}
