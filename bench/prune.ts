/**
 * Pruning benchmark: zferry pruning 1,000 snapshots of one filesystem (keep rules `last_n`,
 * so all but a few go) against the bare `zfs destroy` calls the same destroys need on the same
 * pool (`fs@a,b,c` batches where zfs takes them, one per call otherwise, as the driver does).
 * Both start from the same freshly made snapshots; the order alternates each round so neither
 * always runs on a warmer pool. zferry's side is the daemon's: an in-process endpoint, the
 * listing (holds, cursors), the decisions, the re-check of guid and holds, the destroys.
 *
 * Options: --snapshots N (default 1000), --keep N (default 10), --rounds N (default 3).
 */
import pino from 'pino';
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { endpointContract } from '../replication/contract.js';
import { createZfsEndpoint } from '../replication/endpoint/zfs-endpoint.js';
import { pruneSide } from '../replication/job/prune-side.js';
import { parseKeepRules } from '../replication/pruning/index.js';
import { ZfsDriver } from '../replication/zfs/index.js';
import { localClient } from '../rpc/index.js';
import { fixed, median, table } from './lib/stats.js';
import { checkCommand } from './replication/command.js';
import { createPool, destroyAllPools } from './replication/pools.js';

const { values } = parseArgs({
  options: { snapshots: { type: 'string', default: '1000' }, keep: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } },
});
const SNAPSHOTS = Number(values.snapshots);
const KEEP = Number(values.keep);
const ROUNDS = Number(values.rounds);
const execFileAsync = promisify(execFile);
const progress = (text: string): void => void process.stderr.write(`[bench:prune] ${text}\n`);

const names = (round: number): string[] => Array.from({ length: SNAPSHOTS }, (_, i) => `auto_r${round}_${String(i).padStart(5, '0')}`);

async function makeSnapshots(filesystem: string, round: number): Promise<void> {
  // Several at a time: creation is not what is measured.
  const all = names(round);
  for (let at = 0; at < all.length; at += 8) await Promise.all(all.slice(at, at + 8).map((name) => checkCommand(['zfs', 'snapshot', `${filesystem}@${name}`])));
}

/** The bare calls: plain execFile, one after the other, as a shell loop would run them. */
async function bare(filesystem: string, doomed: readonly string[], batches: boolean): Promise<void> {
  if (batches) {
    for (let at = 0; at < doomed.length; at += 500) await execFileAsync('zfs', ['destroy', `${filesystem}@${doomed.slice(at, at + 500).join(',')}`]);
    return;
  }
  for (const name of doomed) await execFileAsync('zfs', ['destroy', `${filesystem}@${name}`]);
}

async function main(): Promise<void> {
  const pool = await createPool({ sizeMiB: 256, mounted: false });
  try {
    const driver = new ZfsDriver();
    const client = localClient(endpointContract, createZfsEndpoint({ driver, logger: pino({ level: 'silent' }) }));
    const rules = parseKeepRules([{ type: 'last_n', count: KEEP }], 'keep');
    const batches = (await driver.capabilities(pool.name)).batchDestroy;
    progress(
      `pool ${pool.name}; zfs ${batches ? 'takes fs@a,b,c lists' : 'destroys one snapshot per call'}; ${SNAPSHOTS} snapshots, keep ${KEEP}, ${ROUNDS} rounds`,
    );
    const rows: Array<{ zferry: number; bare: number }> = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const ours = pool.dataset(`z${round}`);
      const theirs = pool.dataset(`b${round}`);
      await checkCommand(['zfs', 'create', ours]);
      await checkCommand(['zfs', 'create', theirs]);
      await makeSnapshots(ours, round);
      await makeSnapshots(theirs, round);
      const doomed = names(round).slice(0, SNAPSHOTS - KEEP);
      const timeZferry = async (): Promise<number> => {
        const start = performance.now();
        const spec = {
          job: 'bench',
          side: 'local',
          root: ours,
          recursive: false,
          selects: () => true,
          rules,
          replicates: false,
          ownTags: [],
          owns: () => true,
          dryRun: false,
        };
        const result = await pruneSide(client, spec, pino({ level: 'silent' }));
        const ms = performance.now() - start;
        const destroyed = result.filesystems[0]?.destroyed.length ?? 0;
        if (destroyed !== doomed.length) throw new Error(`zferry destroyed ${destroyed}, expected ${doomed.length}`);
        return ms;
      };
      const timeBare = async (): Promise<number> => {
        const start = performance.now();
        await bare(theirs, doomed, batches);
        return performance.now() - start;
      };
      const zferryFirst = round % 2 === 0;
      const first = zferryFirst ? await timeZferry() : await timeBare();
      const second = zferryFirst ? await timeBare() : await timeZferry();
      const row = zferryFirst ? { zferry: first, bare: second } : { zferry: second, bare: first };
      rows.push(row);
      progress(
        `round ${round + 1} (${zferryFirst ? 'zferry first' : 'bare first'}): zferry ${fixed(row.zferry / 1000)} s, bare ${fixed(row.bare / 1000)} s, ratio ${fixed(row.zferry / row.bare)}`,
      );
    }
    const zferry = median(rows.map((r) => r.zferry));
    const bareMs = median(rows.map((r) => r.bare));
    process.stdout.write(
      `${table([
        ['', 'zferry prune', 'bare zfs destroy', 'ratio'],
        [
          `${SNAPSHOTS - KEEP} of ${SNAPSHOTS} destroyed (median of ${ROUNDS})`,
          `${fixed(zferry / 1000)} s`,
          `${fixed(bareMs / 1000)} s`,
          fixed(zferry / bareMs),
        ],
      ])}\nmedian of the rounds' own ratios: ${fixed(median(rows.map((r) => r.zferry / r.bare)))}\n`,
    );
  } finally {
    await pool.destroy();
    await destroyAllPools();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
