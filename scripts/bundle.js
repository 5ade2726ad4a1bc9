#!/usr/bin/env node
// Bundles the compiled CLI (dist/cmd/zferry.js) and its dependencies into one CommonJS file,
// dist/zferry.cjs: Node then loads one module instead of several hundred small ones, which
// halves the start-up every cron run and every ssh `zferry serve` pays. Then writes V8's code
// cache for it (dist/zferry.cjs.cache) and the command that uses both, dist/zferry.js
// (cmd/launch.ts): compiling the bundle was a quarter of the remaining start-up.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const bundle = path.join(dist, 'zferry.cjs');

await build({
  entryPoints: [path.join(dist, 'cmd', 'zferry.js')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Optional native accelerator of msgpackr: loaded from node_modules when present.
  external: ['msgpackr-extract'],
  // The sources are ES modules: give them the bundle's own URL where they ask for theirs.
  define: { 'import.meta.url': 'zferryBundleUrl' },
  banner: { js: "var zferryBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});

// V8 keeps a source that holds any non-ASCII character as a two-byte string, for the life of the
// process: 4.7 MiB instead of 2.4 for this bundle, whose only such characters sit in a few
// comments (esbuild escapes them in strings). Escaped, the source stays one byte per character.
const text = readFileSync(bundle, 'utf8');
const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
if (ascii !== text) writeFileSync(bundle, ascii);

// The code cache of the whole bundle as compiled here (checked against the bundle when loaded).
const { writeCodeCache } = await import(pathToFileURL(path.join(dist, 'cmd', 'launcher.js')).href);
writeCodeCache(bundle);

await build({
  entryPoints: [path.join(dist, 'cmd', 'launch.js')],
  outfile: path.join(dist, 'zferry.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
});
