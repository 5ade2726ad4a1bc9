/**
 * How the installed `zferry` command (launch.ts, built as dist/zferry.js) starts the CLI: it
 * runs the CLI bundle (dist/zferry.cjs) with the V8 code cache the build writes next to it
 * (dist/zferry.cjs.cache). That skips compiling 2 MB of JavaScript at every start, a cost paid by
 * every cron run and by every `zferry serve` behind ssh (measured in docs/benchmarks.md). node 20 has no compile
 * cache of its own for user code. A missing cache, or one V8 rejects (another node version),
 * only costs that compile again.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Module, createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** The cache file starts with the SHA-256 of the bundle it belongs to. */
const BUNDLE_HASH_BYTES = 32;

/**
 * `accepted`: ran from the cache. `rejected`: V8 refused it. `stale`: made for other bundle
 * bytes (V8 itself only compares the source's length). `none`: no cache file.
 */
export type CodeCacheUse = 'accepted' | 'rejected' | 'stale' | 'none';

type ModuleFunction = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

/** Where the code cache of `bundlePath` lives. */
export function codeCachePath(bundlePath: string): string {
  return `${bundlePath}.cache`;
}

function bundleHash(bundle: Buffer): Buffer {
  return createHash('sha256').update(bundle).digest();
}

function compile(bundlePath: string, bundle: Buffer, cachedData?: Buffer): vm.Script {
  // Node's CommonJS wrapper; a shebang line is not JavaScript.
  const source = Module.wrap(bundle.toString('utf8').replace(/^#!.*/, ''));
  return new vm.Script(source, { filename: bundlePath, ...(cachedData ? { cachedData } : {}) });
}

/** Compiles the bundle and writes its code cache (at build time). */
export function writeCodeCache(bundlePath: string): void {
  const bundle = readFileSync(bundlePath);
  writeFileSync(codeCachePath(bundlePath), Buffer.concat([bundleHash(bundle), compile(bundlePath, bundle).createCachedData()]));
}

function readCodeCache(bundlePath: string, bundle: Buffer): { use: 'stale' | 'none' } | { use: 'found'; data: Buffer } {
  let file: Buffer;
  try {
    file = readFileSync(codeCachePath(bundlePath));
  } catch {
    return { use: 'none' };
  }
  const matches = file.length > BUNDLE_HASH_BYTES && file.subarray(0, BUNDLE_HASH_BYTES).equals(bundleHash(bundle));
  return matches ? { use: 'found', data: file.subarray(BUNDLE_HASH_BYTES) } : { use: 'stale' };
}

/** Runs a CommonJS bundle as node would, from its code cache when that fits. */
export function runBundle(bundlePath: string): CodeCacheUse {
  const bundle = readFileSync(bundlePath);
  const cache = readCodeCache(bundlePath, bundle);
  const script = compile(bundlePath, bundle, cache.use === 'found' ? cache.data : undefined);
  const moduleFunction = script.runInThisContext() as ModuleFunction;
  const module = { exports: {} };
  moduleFunction(module.exports, createRequire(bundlePath), module, bundlePath, path.dirname(bundlePath));
  if (cache.use !== 'found') return cache.use;
  return script.cachedDataRejected === true ? 'rejected' : 'accepted';
}
