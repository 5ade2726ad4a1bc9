/**
 * Capability probing. Two halves, both cheap and side-effect free:
 *  - what the `zfs` binary accepts: each flag is tried with no operand, so zfs stops at
 *    argument parsing (`invalid option 'c'` on zfs-fuse, `missing snapshot argument` on
 *    OpenZFS) and nothing is touched;
 *  - what the pool supports: `zpool get all POOL` (pool version, feature@ flags), and which
 *    pool it is (its guid).
 * Probed, never assumed: a capability that cannot be confirmed is reported as off, with why.
 */

import type { ZfsCapabilities } from './types.js';
import type { ZfsExec, RunResult } from './exec.js';
import { errorFromResult } from './exec.js';
import { parseZpoolProperties } from './parse.js';

export type CapabilityName = Exclude<keyof ZfsCapabilities, 'reasons'>;

/** What the zfs binary's command line accepts (true = accepted). */
export interface BinaryFeatures {
  sendCompressed: boolean;
  sendRaw: boolean;
  sendLargeBlocks: boolean;
  sendEmbedded: boolean;
  sendResumeToken: boolean;
  sendDryRun: boolean;
  receiveResumable: boolean;
  receiveSetProperty: boolean;
  receiveExcludeProperty: boolean;
  receiveUnmounted: boolean;
  listParsable: boolean;
  getTypeFilter: boolean;
  batchDestroy: boolean;
  holdsCommand: boolean;
  bookmarkCommand: boolean;
  multiSnapshot: boolean;
}

export interface BinaryProbe {
  features: BinaryFeatures;
  /** The stderr excerpt that decided each feature, for the reasons. */
  evidence: Record<keyof BinaryFeatures, string>;
}

export interface PoolProbe {
  pool: string;
  /** Legacy pool version; undefined for feature-flag pools (version `-`, i.e. 5000). */
  version: number | undefined;
  /** feature name (without `feature@`) → `enabled` | `active` | `disabled`. */
  features: Map<string, string>;
  /** The pool's guid (decimal): which pool this is, whatever name or host it is reached by. */
  guid: string | undefined;
}

/**
 * Name that can never exist: `!` is not a valid dataset character, so even a zfs that
 * accepts the arguments fails on the name without touching anything.
 */
const NO_SUCH_NAME = 'zferry-probe!';

interface ProbeSpec {
  args: readonly string[];
  /** Extra condition on a run whose option was accepted. */
  accept?: (result: RunResult) => boolean;
}

const BINARY_PROBES: Record<keyof BinaryFeatures, ProbeSpec> = {
  sendCompressed: { args: ['send', '-c'] },
  sendRaw: { args: ['send', '-w'] },
  sendLargeBlocks: { args: ['send', '-L'] },
  sendEmbedded: { args: ['send', '-e'] },
  sendResumeToken: { args: ['send', '-t'] },
  // `send -n -P`: a dry run that prints the stream size (OpenZFS; zfs-fuse has neither flag).
  sendDryRun: { args: ['send', '-n', '-P'] },
  receiveResumable: { args: ['receive', '-s'] },
  receiveSetProperty: { args: ['receive', '-o'] },
  receiveExcludeProperty: { args: ['receive', '-x'] },
  receiveUnmounted: { args: ['receive', '-u'] },
  listParsable: { args: ['list', '-p', '-H', '-o', 'name', NO_SUCH_NAME] },
  getTypeFilter: { args: ['get', '-t', 'snapshot'] },
  // `-n` and comma lists (`fs@a,b,c`) arrived together; the usage text confirms the latter.
  batchDestroy: { args: ['destroy', '-n'], accept: (r) => /\[,\.\.\.\]/.test(r.stderr + r.stdout) },
  // zfs-fuse ships a `zfs holds` that fails with "internal error: .../pyzfs.py not found".
  holdsCommand: { args: ['holds'], accept: (r) => /usage/i.test(r.stderr + r.stdout) },
  bookmarkCommand: { args: ['bookmark'] },
  // zfs-fuse takes exactly one snapshot argument ("too many arguments").
  multiSnapshot: {
    args: ['snapshot', `${NO_SUCH_NAME}@a`, `${NO_SUCH_NAME}@b`],
    accept: (r) => !/too many arguments/i.test(r.stderr),
  },
};

const REJECTED = /invalid option|unrecognized option|unrecognized command|internal error/i;

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((line) => line.trim().length > 0)
      ?.trim() ?? ''
  );
}

/** Interprets one probe run (exported for unit tests with recorded outputs). */
export function interpretProbe(feature: keyof BinaryFeatures, result: RunResult): boolean {
  if (result.spawnError) return false;
  // zfs-fuse cannot even start: the probe says nothing, report off rather than guess.
  if (/failed to initialize|permission denied the zfs utilities/i.test(result.stderr)) return false;
  const combined = `${result.stderr}\n${result.stdout}`;
  if (REJECTED.test(combined)) return false;
  const spec = BINARY_PROBES[feature];
  return spec.accept ? spec.accept(result) : true;
}

export async function probeBinary(exec: ZfsExec): Promise<BinaryProbe> {
  const names = Object.keys(BINARY_PROBES) as (keyof BinaryFeatures)[];
  const results = await Promise.all(names.map((name) => exec.run(exec.zfsBin, BINARY_PROBES[name].args, { observed: false })));
  // A daemon that does not answer makes every probe look like "unsupported": fail loudly instead.
  const broken = results.find((r) => r.spawnError || /failed to initialize|must be run as root/i.test(r.stderr));
  if (broken) throw errorFromResult({ ...broken, exitCode: broken.exitCode ?? 1 });
  const features = {} as BinaryFeatures;
  const evidence = {} as Record<keyof BinaryFeatures, string>;
  names.forEach((name, index) => {
    const result = results[index] as RunResult;
    features[name] = interpretProbe(name, result);
    evidence[name] =
      `\`${['zfs', ...BINARY_PROBES[name].args].join(' ')}\`: ${firstLine(result.stderr) || firstLine(result.stdout) || `exit ${String(result.exitCode)}`}`;
  });
  return { features, evidence };
}

export async function probePool(exec: ZfsExec, pool: string): Promise<PoolProbe> {
  // No -H: zfs-fuse's `zpool get` takes no options; the table parses on both.
  const stdout = await exec.zpool(['get', 'all', pool]);
  return poolProbeFromOutput(pool, stdout);
}

export function poolProbeFromOutput(pool: string, stdout: string): PoolProbe {
  const props = parseZpoolProperties(stdout);
  const rawVersion = props.get('version');
  const version = rawVersion !== undefined && /^[0-9]+$/.test(rawVersion) ? Number(rawVersion) : undefined;
  const features = new Map<string, string>();
  for (const [key, value] of props) {
    if (key.startsWith('feature@')) features.set(key.slice('feature@'.length), value);
  }
  const guid = props.get('guid');
  return { pool, version, features, guid: guid !== undefined && /^[0-9]{1,20}$/.test(guid) ? guid : undefined };
}

function poolFeature(pool: PoolProbe, feature: string): { ok: boolean; why: string } {
  const state = pool.features.get(feature);
  if (state === 'enabled' || state === 'active') return { ok: true, why: '' };
  if (state !== undefined) return { ok: false, why: `pool ${pool.pool}: feature@${feature} is ${state}` };
  if (pool.version !== undefined && pool.version < 5000) {
    return { ok: false, why: `pool ${pool.pool} is legacy version ${pool.version} without feature flags (needs feature@${feature})` };
  }
  return { ok: false, why: `pool ${pool.pool} does not list feature@${feature}` };
}

/** Joins binary and pool facts into the public capability record. */
export function combineCapabilities(binary: BinaryProbe, pool: PoolProbe): ZfsCapabilities {
  const reasons: ZfsCapabilities['reasons'] = {};
  const f = binary.features;
  const ev = binary.evidence;
  const need = (cap: CapabilityName, checks: Array<{ ok: boolean; why: string }>): boolean => {
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) reasons[cap] = failed.map((c) => c.why).join('; ');
    return failed.length === 0;
  };
  const bin = (feature: keyof BinaryFeatures): { ok: boolean; why: string } => ({
    ok: f[feature],
    why: `zfs does not support it (${ev[feature]})`,
  });
  const legacyHolds =
    pool.version === undefined || pool.version >= 18
      ? { ok: true, why: '' }
      : { ok: false, why: `pool ${pool.pool} version ${pool.version} predates user holds (18)` };

  return {
    bookmarks: need('bookmarks', [bin('bookmarkCommand'), poolFeature(pool, 'bookmarks')]),
    resumable: need('resumable', [bin('sendResumeToken'), bin('receiveResumable'), poolFeature(pool, 'extensible_dataset')]),
    sendCompressed: need('sendCompressed', [bin('sendCompressed')]),
    sendRaw: need('sendRaw', [bin('sendRaw')]),
    sendLargeBlocks: need('sendLargeBlocks', [bin('sendLargeBlocks')]),
    sendEmbedded: need('sendEmbedded', [bin('sendEmbedded')]),
    sendSizeEstimate: need('sendSizeEstimate', [bin('sendDryRun')]),
    listParsable: need('listParsable', [bin('listParsable')]),
    batchDestroy: need('batchDestroy', [bin('batchDestroy')]),
    holds: need('holds', [bin('holdsCommand'), legacyHolds]),
    receiveProperties: need('receiveProperties', [bin('receiveSetProperty'), bin('receiveExcludeProperty')]),
    multiSnapshot: need('multiSnapshot', [bin('multiSnapshot')]),
    getTypeFilter: need('getTypeFilter', [bin('getTypeFilter')]),
    receiveUnmounted: need('receiveUnmounted', [bin('receiveUnmounted')]),
    reasons,
  };
}
