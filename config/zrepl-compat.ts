/**
 * zrepl's keys and values that zferry does not take. A zrepl config is answered with each of
 * them, once, with its position ("unsupported: zrepl's X is not supported by zferry (…)"),
 * and what lies below one (a tls serve's certificates) is not reported again as unknown.
 */
import type { KeyPath } from './key-path.js';
import type { PathProblem } from './problems.js';
import { isRawMap, rawJobs, type RawMap } from './raw.js';

export interface ZreplOnly extends PathProblem {
  /** Problems at or below this path are consequences of this one and are not reported. */
  suppress: KeyPath;
}

/** Values of a `type` key zrepl knows and zferry does not, with why or what to use instead. */
const HOOK_TYPES: Record<string, string> = {
  'postgres-checkpoint': 'run psql -c CHECKPOINT from a command hook',
  'mysql-lock-tables': 'lock and unlock from command hooks: pre_snapshot and post_snapshot',
};
const LOGGING_TYPES: Record<string, string> = {
  syslog: 'log to stdout, which zferry writes to stderr for journald, or to a file',
  tcp: 'log to stdout or to a file',
};

/** Keys zrepl has in a map zferry also has: map path (with * for any list index) → key → why. */
const KEYS: Record<string, Record<string, string>> = {
  'global.logging.*': { time: 'zferry always logs the time', color: 'zferry colours human output on a terminal only' },
  'global.monitoring.*': { listen_freebind: 'zferry has no equivalent' },
  /** Only for the ssh connect types: tcp and tls take dial_timeout. */
  'jobs.*.connect': { dial_timeout: 'pass ssh its ConnectTimeout option: options: [ConnectTimeout=10]' },
  'jobs.*.serve': { listen_freebind: 'zferry has no equivalent' },
  'jobs.*.send': {
    encrypted: 'use raw: true to send encrypted datasets as they are',
    send_properties: 'zferry sends no dataset properties',
    backup_properties: 'zferry sends no dataset properties',
    saved: 'zferry has no equivalent',
    step_holds: 'zferry always holds the snapshots a step needs',
  },
  'jobs.*.recv': {
    properties: 'zferry receives properties as sent, none overridden or excluded',
    placeholder: 'zferry creates missing parents on the target itself',
  },
  'jobs.*.replication': { protection: 'zferry always protects the incremental base: with holds, or with a property where holds are missing' },
};

function unsupported(what: string, why: string): string {
  return `unsupported: zrepl's ${what} is not supported by zferry (${why})`;
}

function pattern(path: KeyPath): string {
  return path.map((segment) => (typeof segment === 'number' ? '*' : segment)).join('.');
}

/** `send.encrypted` (within a job), `global.logging[].time`. */
function keyName(path: KeyPath): string {
  return pattern(path)
    .replace(/^jobs\.\*\./, '')
    .replace(/\.\*/g, '[]');
}

function typeValue(where: KeyPath, map: RawMap, table: Record<string, string>, what: string): ZreplOnly[] {
  const type = map.type;
  if (typeof type !== 'string' || !Object.hasOwn(table, type)) return [];
  return [{ path: [...where, 'type'], anchor: 'value', suppress: where, message: unsupported(`${what} type '${type}'`, table[type] ?? '') }];
}

function keysOf(where: KeyPath, map: RawMap): ZreplOnly[] {
  const table = KEYS[pattern(where)] ?? {};
  return Object.keys(map)
    .filter((key) => Object.hasOwn(table, key))
    .map((key) => ({ path: [...where, key], anchor: 'key', suppress: [...where, key], message: unsupported(keyName([...where, key]), table[key] ?? '') }));
}

function listItems(value: unknown): { index: number; item: RawMap }[] {
  return Array.isArray(value) ? value.flatMap((item: unknown, index) => (isRawMap(item) ? [{ index, item }] : [])) : [];
}

/** Every zrepl key or value in `root` (the parsed YAML) that zferry does not take. */
export function findZreplOnly(root: unknown): ZreplOnly[] {
  if (!isRawMap(root)) return [];
  const found: ZreplOnly[] = [];
  const global = root.global;
  if (isRawMap(global)) {
    found.push(...keysOf(['global'], global));
    for (const { index, item } of listItems(global.logging)) {
      const where = ['global', 'logging', index];
      const byType = typeValue(where, item, LOGGING_TYPES, 'logging outlet');
      found.push(...byType);
      if (byType.length > 0) continue;
      found.push(...keysOf(where, item));
      if (item.format === 'logfmt')
        found.push({
          path: [...where, 'format'],
          anchor: 'value',
          suppress: [...where, 'format'],
          message: unsupported("log format 'logfmt'", 'use human or json'),
        });
    }
    for (const { index, item } of listItems(global.monitoring)) {
      const where = ['global', 'monitoring', index];
      if (typeof item.type === 'string' && item.type !== 'prometheus') {
        found.push({
          path: [...where, 'type'],
          anchor: 'value',
          suppress: where,
          message: unsupported(`monitoring type '${item.type}'`, 'prometheus is the one zferry serves'),
        });
        continue;
      }
      found.push(...keysOf(where, item));
    }
  }
  for (const { index, job } of rawJobs(root)) {
    const where = ['jobs', index];
    found.push(...keysOf(where, job));
    for (const key of ['connect', 'serve', 'send', 'recv', 'replication', 'snapshotting']) {
      const value = job[key];
      if (!isRawMap(value)) continue;
      const at = [...where, key];
      if (key === 'connect' && value.type !== 'ssh' && value.type !== 'ssh+stdinserver') continue;
      found.push(...keysOf(at, value));
    }
    const snapshotting = job.snapshotting;
    if (isRawMap(snapshotting)) {
      for (const { index: hook, item } of listItems(snapshotting.hooks)) {
        found.push(...typeValue([...where, 'snapshotting', 'hooks', hook], item, HOOK_TYPES, 'hook'));
      }
    }
  }
  return found;
}
