/**
 * A tuned process keeps glibc from returning freed read arenas to the kernel (see
 * platform/malloc-tuning.ts). What that saves in page faults is measured by bench/malloc-tuning.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { raiseMallocTrimThreshold } from '../../platform/malloc-tuning.js';
import '../../rpc/index.js';

const fromSource = import.meta.url.endsWith('.ts');
const platformPath = fileURLToPath(new URL(`../../platform/index.${fromSource ? 'ts' : 'js'}`, import.meta.url));
const loader = fromSource ? ['--import', import.meta.resolve('tsx')] : [];

const ARENA_BYTES = 1024 * 1024;
const CYCLE_BYTES = 32 * ARENA_BYTES;

/**
 * In a fresh node, optionally tuned (platform/index.ts): two cycles of 32 one-MiB arenas
 * allocated, touched and freed (as a receiving end does between two scavenges), then the
 * writable memory the process had to map for a third cycle (/proc/self/maps: anonymous
 * mappings and the heap).
 */
async function memoryMappedForAnotherCycle(tuned: boolean): Promise<number> {
  const script = `
    import { readFileSync } from 'node:fs';
    if (process.argv[1] !== '') (await import(process.argv[1])).tuneProcessForBulkStreams();
    const mapped = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').reduce((sum, line) => {
      const [range, perms, , , , name] = line.split(/\\s+/);
      if (!range || !perms || !perms.startsWith('rw') || (name !== undefined && name !== '' && name !== '[heap]')) return sum;
      const [start, end] = range.split('-').map((hex) => parseInt(hex, 16));
      return sum + (end - start);
    }, 0);
    const cycle = () => {
      const arenas = [];
      for (let i = 0; i < ${CYCLE_BYTES / ARENA_BYTES}; i++) {
        const arena = Buffer.allocUnsafeSlow(${ARENA_BYTES});
        for (let page = 0; page < arena.length; page += 4096) arena[page] = 1;
        arenas.push(arena);
      }
      return arenas;
    };
    let arenas = cycle(); arenas = null; globalThis.gc();
    arenas = cycle(); arenas = null; globalThis.gc();
    const before = mapped();
    arenas = cycle();
    process.stdout.write(String(mapped() - before));
  `;
  // Single-threaded GC: arenas are freed inside gc(), not later by a sweeper thread.
  const { stdout } = await execa(process.execPath, [
    ...loader,
    '--expose-gc',
    '--single-threaded-gc',
    '--input-type=module',
    '-e',
    script,
    tuned ? platformPath : '',
  ]);
  return Number(stdout);
}

test('a tuned process reuses freed arena memory instead of mapping it afresh', { skip: process.platform !== 'linux' }, async () => {
  // Plain node gives the freed arenas back to the kernel and maps the next ones again: this is
  // what the check below must be able to see.
  // Where glibc's heap top happens to hold another allocation it cannot trim, one plain run maps
  // nothing new (seen once in a loaded clean-clone run): the premise gets three tries.
  const plainRuns: number[] = [];
  while (plainRuns.length < 3 && !plainRuns.some((mapped) => mapped >= CYCLE_BYTES / 2)) plainRuns.push(await memoryMappedForAnotherCycle(false));
  assert.ok(
    plainRuns.some((mapped) => mapped >= CYCLE_BYTES / 2),
    `plain node mapped ${plainRuns.join(', ')} bytes for a cycle of ${CYCLE_BYTES}`,
  );
  const tuned = await memoryMappedForAnotherCycle(true);
  assert.ok(tuned < ARENA_BYTES, `tuned, the cycle mapped ${tuned} bytes: its arenas should reuse the freed ones`);
});

test('loading the RPC does not raise the threshold; the first explicit call does, once', { skip: process.platform !== 'linux' }, () => {
  assert.equal(raiseMallocTrimThreshold(), true);
  assert.equal(raiseMallocTrimThreshold(), false);
});
