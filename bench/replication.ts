/**
 * `npm run bench:replication`: zferry against bare `zfs send | zfs recv -u` pipelines and
 * syncoid, on the same throwaway pools and data in one run; every figure is a ratio to a
 * baseline timed in that run. Prints a table (stdout), then a one-line JSON summary.
 * Progress goes to stderr. Pools and the sshd are removed on exit, failure and Ctrl-C.
 */

import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { errorStack } from '../platform/errors.js';
import { startSshd, SSH_CLIENT_OPTIONS, type Sshd } from '../test/helpers/sshd.js';
import { runCommand, stopLiveCommands } from './replication/command.js';
import type { BenchContext } from './replication/context.js';
import { runDatasetTree } from './replication/dataset-tree.js';
import { BenchSetupError, BenchUsageError } from './replication/errors.js';
import { progress } from './replication/log.js';
import { parseBenchOptions, USAGE, type BenchOptions } from './replication/options.js';
import { createPool, destroyAllPools, sweepStalePools, type BenchPool } from './replication/pools.js';
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

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\n[bench] ${signal}: stopping commands, destroying pools\n`);
  stopLiveCommands();
  // A second signal leaves at once; the exit hooks still destroy pools and stop sshd.
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
  void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof BenchUsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const ctx = await setUp(options);
    if (!options.skipSingle) await runSingleDataset(ctx);
    if (!options.skipTree) await runDatasetTree(ctx);
    const targets = checkTargets(ctx);
    process.stdout.write(renderReport(ctx, targets));
    process.stdout.write(`${jsonSummary(ctx, targets)}\n`);
    return 0;
  } finally {
    await cleanup();
  }
}

async function setUp(options: BenchOptions): Promise<BenchContext> {
  const notes: string[] = [];
  const zpool = await runCommand(['zpool', 'list', '-H', '-o', 'name']).catch((error: unknown) => {
    throw new BenchSetupError('cannot run zpool: is zfs-fuse installed?', { cause: error });
  });
  if (zpool.exitCode !== 0) throw new BenchSetupError(`zpool list failed (${zpool.stderr.trim()}): start ZFS with scripts/start-zfs.sh`);
  const swept = await sweepStalePools();
  if (swept.length > 0) progress(`swept ${swept.length} pools left by an earlier killed run`);

  const needMiB = 2 * options.sizes.poolMiB;
  const fs = await statfs(os.tmpdir());
  const freeMiB = Math.floor((fs.bavail * fs.bsize) / 1024 / 1024);
  if (freeMiB < needMiB + 512) throw new BenchSetupError(`${os.tmpdir()} has ${freeMiB} MiB free; the two pools need up to ${needMiB} MiB`);

  const others = (await runCommand(['zpool', 'list', '-H', '-o', 'name'])).stdout.split('\n').filter(Boolean);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  notes.push(`machine: ${os.cpus().length} CPUs, load average at start ${load}, ${others.length} other zfs pools open at start (other activity adds noise)`);

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

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`bench:replication failed: ${errorStack(error)}\n`);
    await cleanup();
    process.exitCode = 1;
  },
);
