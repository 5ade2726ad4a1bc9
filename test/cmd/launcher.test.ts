// The installed command's start: the CLI bundle runs through the code cache the build wrote.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { codeCachePath, writeCodeCache } from '../../cmd/launcher.js';

const fromSource = import.meta.url.endsWith('.ts');
const SHIPPED_BUNDLE = fileURLToPath(new URL(fromSource ? '../../dist/zferry.cjs' : '../../zferry.cjs', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL(fromSource ? '../../package.json' : '../../../package.json', import.meta.url));

/** runBundle in a fresh node process (V8 reuses what this process compiled, cache or not). */
async function runBundleInChild(bundle: string): Promise<string> {
  const loader = fromSource ? ['--import', import.meta.resolve('tsx')] : [];
  const launcher = new URL(fromSource ? '../../cmd/launcher.ts' : '../../cmd/launcher.js', import.meta.url).href;
  const program = `import { runBundle } from ${JSON.stringify(launcher)}; process.stdout.write(' ' + runBundle(${JSON.stringify(bundle)}));`;
  const result = await execa(process.execPath, [...loader, '--input-type=module', '-e', program], { reject: false });
  return String(result.stdout);
}

test('the build ships a code cache that V8 accepts for the CLI bundle', async () => {
  const result = await runBundleInChild(SHIPPED_BUNDLE);
  // The CLI then runs without arguments (usage on stderr); only the launcher's word matters.
  assert.match(result, / accepted$/);
});

test('the installed command starts the CLI through the launcher', async () => {
  // The command npm installs: package.json's bin, run as it is (not the test's own way in).
  const pkg = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string; bin: { zferry: string } };
  const installed = path.join(path.dirname(PACKAGE_JSON), pkg.bin.zferry);
  assert.equal(path.dirname(installed), path.dirname(SHIPPED_BUNDLE), 'the command sits beside the bundle it launches');
  // V8 reports every code cache it deserializes: the launcher's is the shipped cache's data,
  // the file less the 32-byte hash of the bundle it belongs to (launcher.ts).
  const cacheData = statSync(codeCachePath(SHIPPED_BUNDLE)).size - 32;
  const result = await execa(process.execPath, ['--profile-deserialization', installed, '--version'], { reject: false });
  assert.equal(result.exitCode, 0, String(result.stderr));
  // Like all of commander's output, on stderr: stdout may be an RPC channel.
  assert.equal(String(result.stderr).trim(), pkg.version, 'the CLI ran and answered');
  assert.match(String(result.stdout), new RegExp(`^\\[Deserializing from ${cacheData} bytes`, 'm'), 'the bundle ran from its code cache');
});

test('runBundle runs a CommonJS bundle as node would, from its code cache when that fits', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zferry-launcher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = path.join(dir, 'bundle.cjs');
  // What a bundle relies on: require (resolved from its own place), __filename, __dirname, module.
  const source = (variant: string): string =>
    `#!/usr/bin/env node\n// ${variant}\nprocess.stdout.write([require('node:path').basename(__filename), __dirname, typeof module.exports].join(','));\n`;
  const ran = `bundle.cjs,${dir},object`;

  writeFileSync(bundle, source('a'));
  assert.equal(await runBundleInChild(bundle), `${ran} none`);

  writeCodeCache(bundle);
  assert.equal(await runBundleInChild(bundle), `${ran} accepted`);

  // The bundle changed after its cache was written (to the same length, which V8 alone would
  // not notice): the cache is not used, the bundle still runs.
  writeFileSync(bundle, source('b'));
  assert.equal(await runBundleInChild(bundle), `${ran} stale`);

  // A cache V8 cannot use (here: its data cut short) is rejected, and the bundle still runs.
  writeCodeCache(bundle);
  const cache = readFileSync(codeCachePath(bundle));
  writeFileSync(codeCachePath(bundle), cache.subarray(0, cache.length - 64));
  assert.equal(await runBundleInChild(bundle), `${ran} rejected`);
});
