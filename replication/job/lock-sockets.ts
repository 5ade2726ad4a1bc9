/**
 * Linux abstract unix sockets as named locks that say who holds them. Binding the name takes the
 * lock; the kernel frees it the moment the socket closes or its process dies (kill -9 included),
 * so there is never a stale lock file to clean up. The holder answers every connection with one
 * JSON line describing itself and closes, so whoever finds the name taken can tell who has it.
 *
 * Abstract names have no permissions and live per network namespace: any local user can take a
 * name (blocking, never damaging), and processes in different network namespaces do not see
 * each other's names.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { errorCode } from '../../platform/errors.js';

/** Who holds a target lock: what a waiter reads from the socket and names in its error. */
export interface LockHolder {
  pid: number;
  /** The job's name (hold tags carry it too). */
  job: string;
  /** The canonical name of the target it replicates into (endpoint/identity.ts). */
  destination: string;
  /** When it took the lock (ISO 8601). */
  since: string;
  /** What runs, for people: `zferry push tank/a backup/a`, `zferry daemon`, ... */
  command?: string;
}

/** What a connection to a lock's name found. `unknown`: something holds it but did not say what. */
export type LockState = { state: 'held'; holder: LockHolder } | { state: 'free' } | { state: 'unknown' };

const NAME_PREFIX = 'zferry-target-';
const LOCK_NAME = /^zferry-target-[0-9a-f]{64}$/;
/** A description is a few hundred bytes; anything longer is not one of ours. */
const DESCRIPTION_LIMIT = 4096;
/** A holder answers from its event loop at once; one that says nothing for this long is taken as unknown. */
const DESCRIBE_TIMEOUT_MS = 2000;
/** Questions asked before a reset or empty answer counts as `unknown` (see describeLock). */
const DESCRIBE_ATTEMPTS = 4;
/** __SO_ACCEPTCON in /proc/net/unix's Flags: the socket listens (accepted connections share its name but lack it). */
const LISTENING_FLAG = 0x10000;

/** The abstract socket name locking `destination` (a hash: names are limited to 107 bytes). */
export function lockNameOf(destination: string): string {
  return NAME_PREFIX + createHash('sha256').update(destination).digest('hex');
}

function addressOf(name: string): string {
  return `\0${name}`;
}

/**
 * Binds `name`, answering each connection with `holder`; undefined when it is taken (by another
 * process or by this one). The server does not keep the process alive by itself.
 */
export function bindLock(name: string, holder: LockHolder): Promise<net.Server | undefined> {
  const line = `${JSON.stringify(holder)}\n`;
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    // Destroyed once written: a client that never closes its end must not keep release() waiting.
    socket.end(line, () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      if (errorCode(error) === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    };
    server.once('error', onError);
    server.listen({ path: addressOf(name) }, () => {
      server.off('error', onError);
      server.on('error', () => undefined);
      server.unref();
      resolve(server);
    });
  });
}

/** Frees a lock bound by bindLock: the name is free again once this resolves. */
export function unbindLock(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Asks whoever holds `name` to describe itself. A holder letting go while asked resets the
 * connection (or closes it unanswered) instead of refusing it: asked again, a name let go is
 * refused, so only an answer that stays inconclusive counts as `unknown`.
 */
export async function describeLock(name: string): Promise<LockState> {
  for (let attempt = 1; ; attempt++) {
    const found = await askOnce(name);
    if (found !== 'inconclusive') return found;
    if (attempt >= DESCRIBE_ATTEMPTS) return { state: 'unknown' };
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
  }
}

/** One question: the holder's answer, `free` when refused, `inconclusive` for a reset or no line. */
function askOnce(name: string): Promise<LockState | 'inconclusive'> {
  return new Promise((resolve) => {
    const socket = net.connect({ path: addressOf(name) });
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const settle = (state: LockState | 'inconclusive'): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(state);
    };
    // Silence for this long is an answer: something holds the name and does not say what.
    const timer = setTimeout(() => settle({ state: 'unknown' }), DESCRIBE_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length > DESCRIPTION_LIMIT) settle({ state: 'unknown' });
    });
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const holder = parseHolder(text);
      settle(holder !== undefined ? { state: 'held', holder } : text === '' ? 'inconclusive' : { state: 'unknown' });
    });
    // Refused: nobody listens under the name (any more).
    socket.on('error', (error) => settle(errorCode(error) === 'ECONNREFUSED' ? { state: 'free' } : 'inconclusive'));
  });
}

/** A holder's line, checked field by field: anyone may bind an abstract name and say anything. */
function parseHolder(text: string): LockHolder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text.split('\n', 1)[0] ?? '');
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { pid, job, destination, since, command } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (typeof job !== 'string' || typeof destination !== 'string' || typeof since !== 'string') return undefined;
  if (command !== undefined && typeof command !== 'string') return undefined;
  return { pid, job, destination, since, ...(command !== undefined ? { command } : {}) };
}

/**
 * The names of every target lock held on this host (in this network namespace), from the
 * kernel's list of unix sockets; empty where there is no such list.
 */
export async function heldLockNames(): Promise<string[]> {
  let table: string;
  try {
    table = await readFile('/proc/net/unix', 'utf8');
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const line of table.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path; an abstract path starts with '@', and
    // node pads the name with NULs, which the kernel also shows as '@'.
    const fields = line.trim().split(/\s+/);
    const [flags, path] = [fields[3], fields[7]];
    if (flags === undefined || path === undefined || !path.startsWith(`@${NAME_PREFIX}`)) continue;
    if ((parseInt(flags, 16) & LISTENING_FLAG) === 0) continue;
    const name = path.slice(1).replace(/@+$/, '');
    if (LOCK_NAME.test(name)) names.add(name);
  }
  return [...names];
}
