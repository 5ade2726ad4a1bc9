/**
 * What raising glibc's trim threshold (platform/malloc-tuning.ts) saves: in a fresh node process,
 * tuned (platform/index.ts) and not, allocate, touch and free 32 one-MiB read arenas per
 * cycle (as a receiving end does between two scavenges) and count the page faults per cycle.
 * Plain node gives the freed arenas back to the kernel and faults most of their 8192 pages in
 * again every cycle; a tuned process reuses them. Rounds alternate between
 * the two; the figures are medians. Linux only (the threshold is glibc's).
 *
 * Usage: node dist/bench/malloc-tuning.js [--rounds 5] [--cycles 10]
 * Prints a table and one JSON summary line (last line of stdout).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { errorStack } from '../platform/errors.js';
import { fixed, median, table } from './lib/stats.js';

const fromSources = import.meta.url.endsWith('.ts');
const platformPath = fileURLToPath(new URL(`../platform/index.${fromSources ? 'ts' : 'js'}`, import.meta.url));
const loader = fromSources ? ['--import', import.meta.resolve('tsx')] : [];

const ARENAS_PER_CYCLE = 32;
const PAGES_PER_CYCLE = (ARENAS_PER_CYCLE * 1024 * 1024) / 4096;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    cycles: { type: 'string', default: '10' },
  },
});
const rounds = Number(values.rounds);
const cycles = Number(values.cycles);

/** Page faults per arena cycle in a fresh node, tuned or not. */
async function faultsPerCycle(tuned: boolean): Promise<number> {
  const script = `
    if (process.argv[1] !== '') (await import(process.argv[1])).tuneProcessForBulkStreams();
    const cycle = () => {
      let arenas = [];
      for (let i = 0; i < ${ARENAS_PER_CYCLE}; i++) {
        const arena = Buffer.allocUnsafeSlow(1024 * 1024);
        for (let page = 0; page < arena.length; page += 4096) arena[page] = 1;
        arenas.push(arena);
      }
      arenas = null;
      globalThis.gc();
    };
    cycle(); cycle();
    const before = process.resourceUsage().minorPageFault;
    for (let i = 0; i < ${cycles}; i++) cycle();
    process.stdout.write(String((process.resourceUsage().minorPageFault - before) / ${cycles}));
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

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('glibc trim threshold: Linux only');
  const plain: number[] = [];
  const tuned: number[] = [];
  for (let round = 0; round < rounds; round++) {
    plain.push(await faultsPerCycle(false));
    tuned.push(await faultsPerCycle(true));
    process.stderr.write(`round ${round + 1}: plain ${plain.at(-1)} / tuned ${tuned.at(-1)} faults per cycle\n`);
  }
  const summary = {
    bench: 'malloc-tuning',
    rounds,
    cycles,
    pagesPerCycle: PAGES_PER_CYCLE,
    faultsPerCycle: { plain: median(plain), rpc: median(tuned) },
  };
  process.stdout.write(
    `${table([
      ['process', 'page faults per cycle', `of ${PAGES_PER_CYCLE} pages`],
      ['plain node', fixed(summary.faultsPerCycle.plain, 0), `${fixed((100 * summary.faultsPerCycle.plain) / PAGES_PER_CYCLE, 0)} %`],
      ['tuned (platform/index.ts)', fixed(summary.faultsPerCycle.rpc, 0), `${fixed((100 * summary.faultsPerCycle.rpc) / PAGES_PER_CYCLE, 0)} %`],
    ])}\n\n${JSON.stringify(summary)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/malloc-tuning: ${errorStack(err)}\n`);
  process.exit(1);
});
