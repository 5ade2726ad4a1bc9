/** Tuned processes keep glibc from returning freed read arenas to the kernel (see platform/malloc-tuning.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { raiseMallocTrimThreshold } from '../../platform/malloc-tuning.js';
import '../../rpc/index.js';

const platformPath = fileURLToPath(new URL('../../platform/index.js', import.meta.url));

/**
 * In a fresh node: optionally load the RPC layer, then allocate, touch and free 32 one-MiB
 * arenas per cycle (as a receiving end does between two scavenges); the page faults per cycle.
 */
async function faultsPerArenaCycle(tuned: boolean): Promise<number> {
  const script = `
    if (process.argv[1] !== '') (await import(process.argv[1])).tuneProcessForBulkStreams();
    const cycle = () => {
      let arenas = [];
      for (let i = 0; i < 32; i++) {
        const arena = Buffer.allocUnsafeSlow(1024 * 1024);
        for (let page = 0; page < arena.length; page += 4096) arena[page] = 1;
        arenas.push(arena);
      }
      arenas = null;
      globalThis.gc();
    };
    cycle(); cycle();
    const before = process.resourceUsage().minorPageFault;
    for (let i = 0; i < 10; i++) cycle();
    process.stdout.write(String((process.resourceUsage().minorPageFault - before) / 10));
  `;
  // Single-threaded GC: arenas are freed inside gc(), not later by a sweeper thread.
  const { stdout } = await execa(process.execPath, ['--expose-gc', '--single-threaded-gc', '--input-type=module', '-e', script, tuned ? platformPath : '']);
  return Number(stdout);
}

test('a tuned process reuses freed arena memory instead of faulting it in again', { skip: process.platform !== 'linux' }, async () => {
  const plain = await faultsPerArenaCycle(false);
  const tuned = await faultsPerArenaCycle(true);
  // 32 MiB is 8192 pages: plain node faults most of them in again every cycle.
  assert.ok(plain > 4000, `plain node: ${plain} faults per cycle (expected most of 8192)`);
  assert.ok(tuned < plain / 8, `tuned: ${tuned} faults per cycle, plain node ${plain}`);
});

test('loading the RPC does not raise the threshold; the first explicit call does, once', { skip: process.platform !== 'linux' }, () => {
  assert.equal(raiseMallocTrimThreshold(), true);
  assert.equal(raiseMallocTrimThreshold(), false);
});
