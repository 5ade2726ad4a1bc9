/**
 * `npm run bench:stdinserver`: what the stdinserver hop costs. One 1 GiB snapshot pushed with
 * `zferry push` over a real sshd, to a key whose forced command is `zferry stdinserver bench`
 * (the session carried to a stdinserver listener in this process, which serves the real
 * endpoint as a sink job of the daemon does), against the same push to a key whose forced
 * command is `zferry serve --stdio`. Both confined to the same root, same cipher, the order
 * rotating each round. Prints a table and the ratio of the median throughputs (stdout), then
 * a one-line JSON summary; progress goes to stderr. Pools, sshd and sockets are removed on
 * exit, failure and Ctrl-C.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { tuneProcessForBulkStreams } from '../platform/index.js';
import { nodeCommand, startSshd, SSH_CLIENT_OPTIONS, type SshKeyPair, type Sshd } from '../test/helpers/sshd.js';
import { startStdinserverSink, type StdinserverSink } from '../test/helpers/stdinserver-sink.js';
import { fixed, median, MIB, table } from './lib/stats.js';
import { machineNote, runBenchMain, zfsReadyPools } from './replication/bench-main.js';
import { checkCommand, runCommand } from './replication/command.js';
import { destroyTarget, guidsOf } from './replication/targets.js';
import { writeRandom } from './replication/data.js';
import { BenchSetupError, ReplicaMismatchError } from './replication/errors.js';
import { progress } from './replication/log.js';
import { parseRoundsOptions, roundsUsage, type RoundsOptions } from './replication/rounds-options.js';
import { createPool, destroyAllPools, type BenchPool } from './replication/pools.js';

const CIPHER = 'aes128-gcm@openssh.com';
const ZFERRY_CLI = fileURLToPath(new URL('../zferry.js', import.meta.url));
const IDENTITY = 'bench';
const TARGET_RATIO = 0.95;

const DEFAULTS: RoundsOptions = { rounds: 5, sizeMiB: 1024 };
const USAGE = roundsUsage('bench:stdinserver', 'pushes', DEFAULTS);

type Options = RoundsOptions;

type Variant = 'stdinserver' | 'serve --stdio';

function parse(argv: readonly string[]): Options | 'help' {
  return parseRoundsOptions(argv, DEFAULTS, USAGE);
}

let sshd: Sshd | undefined;
let sink: StdinserverSink | undefined;
let tempDir: string | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await sink?.close().catch(() => undefined);
    await sshd?.stop().catch(() => undefined);
    await destroyAllPools();
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  })();
  return cleaning;
}

async function measure(options: Options): Promise<void> {
  const others = await zfsReadyPools();
  const version = await runCommand([process.execPath, ZFERRY_CLI, '--version']);
  if (version.exitCode !== 0) throw new BenchSetupError(`${ZFERRY_CLI} --version failed: run npm run build first (${version.stderr.trim()})`);
  // The listener here stands for the daemon, which tunes itself as every zferry process does.
  tuneProcessForBulkStreams();
  const notes = [
    machineNote(others, 'other activity adds noise'),
    `zferry ${(version.stdout || version.stderr).trim()}, node ${process.version}, ssh cipher ${CIPHER}`,
  ];

  const poolMiB = options.sizeMiB + 512;
  progress(`creating two ${poolMiB} MiB pools in ${os.tmpdir()}`);
  const source: BenchPool = await createPool({ sizeMiB: poolMiB, mounted: true });
  const target: BenchPool = await createPool({ sizeMiB: poolMiB, mounted: false });
  const sourceFs = source.dataset('data');
  await checkCommand(['zfs', 'create', sourceFs]);
  progress(`writing ${options.sizeMiB} MiB of random data`);
  await writeRandom(path.join(source.mountpoint ?? '', 'data', 'random.bin'), options.sizeMiB * MIB);
  await checkCommand(['zfs', 'snapshot', `${sourceFs}@bench`]);
  const sourceGuids = await guidsOf(sourceFs);
  const rootFs = target.dataset('sink');
  await checkCommand(['zfs', 'create', '-o', 'mountpoint=none', rootFs]);
  await checkCommand(['zfs', 'create', `${rootFs}/${IDENTITY}`]);

  tempDir = await mkdtemp(path.join(os.tmpdir(), 'zferry-bench-stdinserver-'));
  const sockdir = path.join(tempDir, 'sockets');
  sink = await startStdinserverSink({ sockdir, rootFs, identities: [IDENTITY], logger: pino({ level: 'warn' }, pino.destination(2)) });
  sshd = await startSshd();
  const keys = new Map<Variant, SshKeyPair>();
  const forced: Record<Variant, string[]> = {
    stdinserver: ['stdinserver', IDENTITY, '--sockdir', sockdir],
    'serve --stdio': ['serve', '--stdio', '--root', `${rootFs}/${IDENTITY}`],
  };
  for (const variant of ['stdinserver', 'serve --stdio'] as const) {
    const key = await sshd.newClientKey(variant.replace(/\W+/g, '-'));
    await sshd.authorize({ key, command: nodeCommand(ZFERRY_CLI, forced[variant]) });
    keys.set(variant, key);
  }
  progress(`sshd on ${sshd.host}:${sshd.port}; ${options.rounds} rounds of ${options.sizeMiB} MiB each way`);

  const times: Record<Variant, number[]> = { stdinserver: [], 'serve --stdio': [] };
  for (let round = 0; round < options.rounds; round++) {
    const order: Variant[] = round % 2 === 0 ? ['stdinserver', 'serve --stdio'] : ['serve --stdio', 'stdinserver'];
    for (const variant of order) {
      const key = keys.get(variant);
      if (key === undefined || sshd === undefined) throw new Error('unreachable: the keys are made above');
      const dst = `${rootFs}/${IDENTITY}/r${round}`;
      const argv = [
        process.execPath,
        ZFERRY_CLI,
        'push',
        '--quiet',
        '--ssh-key',
        key.privateKeyPath,
        ...[...SSH_CLIENT_OPTIONS, `Ciphers=${CIPHER}`].flatMap((option) => ['--ssh-option', option]),
        sourceFs,
        `ssh://${sshd.user}@${sshd.host}:${sshd.port}/${dst}`,
      ];
      const result = await checkCommand(argv);
      const landed = await guidsOf(dst);
      if (landed !== sourceGuids) throw new ReplicaMismatchError(`${variant}: ${dst} has snapshot guids ${landed}, the source ${sourceGuids}`);
      times[variant].push(result.ms);
      progress(`round ${round + 1} ${variant}: ${fixed(result.ms / 1000)} s, ${fixed((options.sizeMiB * 1000) / result.ms, 0)} MiB/s`);
      await destroyTarget(dst, 'bench');
    }
  }
  if (sink.accepted.length !== options.rounds)
    throw new BenchSetupError(`the stdinserver listener saw ${sink.accepted.length} sessions, expected ${options.rounds}`);

  const mibPerSecond = (variant: Variant): number[] => times[variant].map((ms) => (options.sizeMiB * 1000) / ms);
  const medianOf = (variant: Variant): number => median(mibPerSecond(variant));
  const ratio = medianOf('stdinserver') / medianOf('serve --stdio');
  const rows = [
    ['forced command', 'median MiB/s', 'each round (MiB/s)'],
    ...(['serve --stdio', 'stdinserver'] as const).map((variant) => [
      `zferry ${variant}`,
      fixed(medianOf(variant), 0),
      mibPerSecond(variant)
        .map((value) => fixed(value, 0))
        .join(' '),
    ]),
  ];
  process.stdout.write(`${notes.map((note) => `# ${note}`).join('\n')}\n\n${table(rows)}\n`);
  process.stdout.write(`\nstdinserver / serve --stdio: ${fixed(ratio)}x (target >= ${TARGET_RATIO}x: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'stdinserver', sizeMiB: options.sizeMiB, rounds: options.rounds, ms: times, ratio, target: TARGET_RATIO })}\n`,
  );
}

runBenchMain({ name: 'bench:stdinserver', parse, usage: USAGE, stops: 'commands and sshd', cleanup, run: measure });
