/**
 * `npm run bench:replication`: zferry against bare `zfs send | zfs recv -u` pipelines and
 * syncoid, on the same throwaway pools and data in one run; every figure is a ratio to a
 * baseline timed in that run. Prints a table (stdout), then a one-line JSON summary.
 * Progress goes to stderr. Pools and the sshd are removed on exit, failure and Ctrl-C.
 */

import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { startSshd, SSH_CLIENT_OPTIONS, type Sshd } from '../test/helpers/sshd.js';
import { machineNote, runBenchMain, zfsReadyPools } from './replication/bench-main.js';
import { runCommand } from './replication/command.js';
import type { BenchContext } from './replication/context.js';
import { runDatasetTree } from './replication/dataset-tree.js';
import { BenchSetupError } from './replication/errors.js';
import { progress } from './replication/log.js';
import { parseBenchOptions, USAGE, type BenchOptions } from './replication/options.js';
import { createPool, destroyAllPools, type BenchPool } from './replication/pools.js';
import type { RemoteHost } from './replication/replicators.js';
import { Results } from './replication/results.js';
import { checkTargets, jsonSummary, renderReport } from './replication/report.js';
import { runSingleDataset } from './replication/single-dataset.js';
import { syncoidRemote } from './replication/syncoid-remote.js';

const CIPHER = 'aes128-gcm@openssh.com';
const ZFERRY_CLI = fileURLToPath(new URL('../zferry.js', import.meta.url));

let sshd: Sshd | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await sshd?.stop().catch(() => undefined);
    await destroyAllPools();
  })();
  return cleaning;
}

/** The single-dataset and tree scenarios; the table and the JSON line on stdout. */
async function measure(options: BenchOptions): Promise<void> {
  const ctx = await setUp(options);
  if (!options.skipSingle) await runSingleDataset(ctx);
  if (!options.skipTree) await runDatasetTree(ctx);
  const targets = checkTargets(ctx);
  process.stdout.write(renderReport(ctx, targets));
  process.stdout.write(`${jsonSummary(ctx, targets)}\n`);
}

async function setUp(options: BenchOptions): Promise<BenchContext> {
  const notes: string[] = [];
  const others = await zfsReadyPools();

  const needMiB = 2 * options.sizes.poolMiB;
  const fs = await statfs(os.tmpdir());
  const freeMiB = Math.floor((fs.bavail * fs.bsize) / 1024 / 1024);
  if (freeMiB < needMiB + 512) throw new BenchSetupError(`${os.tmpdir()} has ${freeMiB} MiB free; the two pools need up to ${needMiB} MiB`);

  notes.push(machineNote(others, 'other activity adds noise'));

  const zferryCli = options.skipZferry ? undefined : await probeZferry(notes);
  if (!options.skipSyncoid) {
    const syncoid = await runCommand(['syncoid', '--version']).catch(() => undefined);
    if (syncoid?.exitCode !== 0) {
      notes.push('syncoid is not installed (apt-get install sanoid): left out');
      options = { ...options, skipSyncoid: true };
    } else {
      notes.push(
        `${syncoid.stdout.split('\n')[0] ?? 'syncoid'}: run with --no-sync-snap --quiet; over ssh also --compress=none --sshport --sshkey --sshcipher --sshoption`,
      );
    }
  }

  progress(`creating two ${options.sizes.poolMiB} MiB pools in ${os.tmpdir()}`);
  const source: BenchPool = await createPool({ sizeMiB: options.sizes.poolMiB, mounted: true });
  const target: BenchPool = await createPool({ sizeMiB: options.sizes.poolMiB, mounted: false });

  let remote: RemoteHost | undefined;
  let syncoidHost: RemoteHost | undefined;
  if (!options.skipSsh) {
    sshd = await startSshd();
    await sshd.authorize();
    remote = {
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      identityFile: sshd.clientKey.privateKeyPath,
      cipher: CIPHER,
      clientOptions: SSH_CLIENT_OPTIONS,
    };
    progress(`sshd on ${sshd.host}:${sshd.port}, cipher ${CIPHER}`);
    if (!options.skipSyncoid) {
      const forSyncoid = await syncoidRemote(sshd, remote, target.name);
      syncoidHost = forSyncoid.remote;
      if (forSyncoid.note !== undefined) notes.push(`syncoid over ssh: ${forSyncoid.note}`);
    }
  }
  return { options, source, target, remote, syncoidRemote: syncoidHost, zferryCli, results: new Results(), notes, failed: new Map(), profile: { entries: [] } };
}

/** The CLI is usable when `push --help` runs; otherwise zferry is left out (with the reason). */
async function probeZferry(notes: string[]): Promise<string | undefined> {
  const help = await runCommand([process.execPath, ZFERRY_CLI, 'push', '--help']);
  // zferry prints help on stderr (its stdout may be an RPC channel).
  if (help.exitCode === 0 && `${help.stdout}${help.stderr}`.includes('--ssh-option')) return ZFERRY_CLI;
  const reason = (help.stderr || help.stdout).trim().split('\n').slice(0, 3).join(' / ');
  notes.push(`zferry left out: \`zferry push --help\` failed (exit ${String(help.exitCode)}): ${reason}`);
  progress(`zferry CLI not usable, measuring the baselines only: ${reason}`);
  return undefined;
}

runBenchMain({ name: 'bench:replication', parse: parseBenchOptions, usage: USAGE, stops: 'commands', cleanup, run: measure });
