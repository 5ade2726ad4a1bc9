#!/usr/bin/env node
// Bundles the compiled CLI (dist/cmd/zferry.js) and its dependencies into one file,
// dist/zferry.js: Node then loads one module instead of several hundred small ones, which
// halves the start-up every cron run and every ssh `zferry serve` pays.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [path.join(root, 'dist', 'cmd', 'zferry.js')],
  outfile: path.join(root, 'dist', 'zferry.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Optional native accelerator of msgpackr: loaded from node_modules when present.
  external: ['msgpackr-extract'],
  // CommonJS dependencies call require(); give the ES module bundle one.
  banner: { js: "import { createRequire as zferryCreateRequire } from 'node:module'; const require = zferryCreateRequire(import.meta.url);" },
});
