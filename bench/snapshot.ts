/**
 * `npm run bench:snapshot`: the daemon's snapshot step (daemon/take-snapshots.ts, through the
 * local endpoint exactly as a snap or push job runs it) on a tree of 51 filesystems, against
 * one bare `zfs snapshot -r` of the same tree, on the same throwaway pool in one run. The two
 * alternate, and which goes first rotates each round, so neither always meets a pool just
 * written by the other. Prints a table (stdout), then a one-line JSON summary; progress to
 * stderr. The pool is removed on exit, failure and Ctrl-C.
 */
import pino from 'pino';
import { selectionOf } from '../daemon/selection.js';
import { takeSnapshots } from '../daemon/take-snapshots.js';
import { EndpointOpener } from '../replication/endpoint/open.js';
import { errorStack } from '../platform/errors.js';
import type { FilesystemFilterRule } from '../config/types.js';
import { checkCommand, stopLiveCommands } from './replication/command.js';
import { progress } from './replication/log.js';
import { createPool, destroyAllPools } from './replication/pools.js';
import { fixed, median, table } from './lib/stats.js';

const FILESYSTEMS = 51;
const ROUNDS = Number(process.env.ZFERRY_BENCH_ROUNDS ?? 30);
/** The ratio the issue aims for. */
const TARGET_RATIO = 1.2;

const position = { file: 'bench', line: 1, column: 1 };
const logger = pino({ level: process.env.ZFERRY_BENCH_LOG ?? 'silent' }, pino.destination(2));

async function zferrySnapshot(filesystems: FilesystemFilterRule[], at: Date, opener: EndpointOpener): Promise<number> {
  const started = performance.now();
  const name = await takeSnapshots({
    job: 'bench',
    filesystems,
    snapshotting: { type: 'periodic', prefix: 'zf_', intervalMs: 60_000, timestampFormat: 'dense' },
    opener,
    logger,
    at,
    signal: new AbortController().signal,
  });
  const ms = performance.now() - started;
  if (name === undefined) throw new Error('zferry took no snapshot');
  return ms;
}

async function bareSnapshot(root: string, round: number): Promise<number> {
  return (await checkCommand(['zfs', 'snapshot', '-r', `${root}@bare_${round}`])).ms;
}

async function main(): Promise<number> {
  const pool = await createPool({ sizeMiB: 256, mounted: false });
  const root = pool.dataset('tree');
  progress(`creating ${FILESYSTEMS} filesystems below ${root}`);
  await checkCommand(['zfs', 'create', root]);
  // Two levels, as a home or VM tree would be: 10 parents with 4 children each.
  const names: string[] = [];
  for (let parent = 0; parent < 10; parent += 1) names.push(`${root}/p${parent}`);
  for (let parent = 0; parent < 10; parent += 1) for (let child = 0; child < 4; child += 1) names.push(`${root}/p${parent}/c${child}`);
  for (const name of names) await checkCommand(['zfs', 'create', name]);
  const count = names.length + 1;
  const filesystems: FilesystemFilterRule[] = [{ path: root, subtree: true, include: true, pattern: `${root}<`, position }];
  if (selectionOf(filesystems).roots.length !== 1) throw new Error('the filter must be one subtree');

  const opener = new EndpointOpener({ logger });
  // Warm-up (capability probe, caches), not counted.
  await zferrySnapshot(filesystems, new Date(0), opener);
  await bareSnapshot(root, -1);

  const zferry: number[] = [];
  const bare: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const at = new Date(Date.UTC(2030, 0, 1) + round * 1000);
    const order = round % 2 === 0 ? ['zferry', 'bare'] : ['bare', 'zferry'];
    for (const contender of order) {
      if (contender === 'zferry') zferry.push(await zferrySnapshot(filesystems, at, opener));
      else bare.push(await bareSnapshot(root, round));
    }
    progress(`round ${round + 1}/${ROUNDS}: zferry ${fixed(zferry.at(-1) ?? NaN, 1)} ms, bare ${fixed(bare.at(-1) ?? NaN, 1)} ms`);
  }
  const snapshotsAtEnd = (await checkCommand(['zfs', 'list', '-H', '-o', 'name', '-t', 'snapshot', '-r', root])).stdout.split('\n').filter(Boolean).length;
  const zferryMs = median(zferry);
  const bareMs = median(bare);
  const ratio = zferryMs / bareMs;
  process.stdout.write(
    `${table([
      ['snapshot of a tree of ' + String(count) + ' filesystems', 'median ms', 'ratio'],
      ['bare zfs snapshot -r', fixed(bareMs, 1), '1.00'],
      ["zferry's snapshot step (atomic)", fixed(zferryMs, 1), fixed(ratio)],
    ])}\n\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ bench: 'snapshot', filesystems: count, rounds: ROUNDS, snapshotsAtEnd, bareMs, zferryMs, ratio, target: TARGET_RATIO, met: ratio <= TARGET_RATIO })}\n`,
  );
  return 0;
}

function onSignal(signal: NodeJS.Signals): void {
  stopLiveCommands();
  void destroyAllPools().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

void main()
  .then(
    (code) => code,
    (error: unknown) => {
      process.stderr.write(`${errorStack(error)}\n`);
      return 1;
    },
  )
  .then(async (code) => {
    await destroyAllPools();
    process.exit(code);
  });
