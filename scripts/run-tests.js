#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Several files run at once: ZFS tests wait on zfs-fuse, not on the CPU.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = path.join(root, 'dist', 'test');
const filter = process.argv.slice(2);

function collect(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) found.push(...collect(full));
    else if (entry.endsWith('.test.js')) found.push(full);
  }
  return found;
}

let files = collect(testRoot).sort();
if (filter.length > 0) files = files.filter((f) => filter.some((part) => f.includes(part)));
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const concurrency = process.env.ZFERRY_TEST_CONCURRENCY ?? '4';
// The whole suite takes a few minutes; a run far past that is stuck (a wedged zfs-fuse makes
// every ZFS call wait): stop it while there is time to say why, instead of hitting CI's limit.
const budgetSeconds = Number(process.env.ZFERRY_TEST_BUDGET_SECONDS ?? '1500');
// Its own process group, so that a stop takes every test process and what they started with it.
// A second copy of the report in a file: after a failure its failing tests are printed again at
// the end, where a CI log that keeps only the start and the end of the output still shows them.
const reportDir = mkdtempSync(path.join(os.tmpdir(), 'zferry-tests-'));
const reportFile = path.join(reportDir, 'report.tap');
const reporters = ['--test-reporter=tap', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${reportFile}`];
const runner = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=240000', ...reporters, ...files], {
  stdio: 'inherit',
  cwd: root,
  detached: true,
});
let timedOut = false;
const budget = setTimeout(() => {
  timedOut = true;
  console.error(`run-tests: the suite ran past its budget of ${budgetSeconds} s; stopping it`);
  try {
    process.kill(-runner.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}, budgetSeconds * 1000);
const status = await new Promise((resolve) => runner.on('exit', (code) => resolve(code ?? 1)));
clearTimeout(budget);
// Whatever a test left running in the group (it would hold the caller's output open): gone.
try {
  process.kill(-runner.pid, 'SIGKILL');
} catch {
  // nothing left
}
if (timedOut || status !== 0) {
  printFailures();
  // What the ZFS side looked like at the end, for a failure that happened far from a terminal.
  spawnSync(path.join(root, 'scripts', 'zfs-diagnostics.sh'), [], { stdio: 'inherit', timeout: 60_000 });
}
rmSync(reportDir, { recursive: true, force: true });
process.exit(timedOut ? 1 : status);

/** Each failed test that failed itself (not through its subtests), with its error, briefly. */
function printFailures() {
  let lines;
  try {
    lines = readFileSync(reportFile, 'utf8').split('\n');
  } catch {
    return;
  }
  const blocks = [];
  for (let i = 0; i < lines.length; i += 1) {
    const match = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!match) continue;
    const block = [];
    for (let j = i + 1; j < lines.length && block.length < 400; j += 1) {
      block.push(lines[j]);
      if (lines[j].trim() === '...') break;
    }
    if (block.some((line) => line.includes("failureType: 'subtestsFailed'"))) continue;
    blocks.push([`not ok - ${match[2]}`, ...block.filter((line) => !/^\s*(---|\.\.\.)$/.test(line)).slice(0, 40)]);
  }
  if (blocks.length === 0) return;
  console.log(`== failing tests, again (${blocks.length})`);
  for (const block of blocks) console.log(block.join('\n'));
}
