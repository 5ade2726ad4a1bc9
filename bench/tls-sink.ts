/**
 * `npm run bench:tls`: what zferry costs over mutual TLS. One 1 GiB snapshot of random data
 * (one full stream) pushed by a push job (`zferry run JOB --config FILE`, a process of its own)
 * to a sink daemon on this host serving over tls, against the same `zfs send` stream through a
 * raw Node TLS socket pair (bench/lib/tls-raw-peer: tls.connect/tls.createServer in two
 * processes, the same certificates, TLS 1.3, no zferry framing) into `zfs recv` on the same
 * target pool. Times: the zferry side from the run's start to its exit (start-up, handshake,
 * planning, the step, the end of the session), and also the step alone from the run's JSON; the
 * baseline from the sender's start to the receiver's exit. The order rotates each round and the
 * received dataset is destroyed between rounds. Prints a table and the ratio of the median
 * throughputs (stdout), then a one-line JSON summary; progress goes to stderr. Pools, the daemon
 * and temp files are removed on exit, failure and Ctrl-C.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/free-port.js';
import { createTestCa, type TestCa } from '../test/helpers/tls-ca.js';
import { makeDaemonDir, removeDaemonDirs, startDaemon, type BenchDaemon } from './daemon/daemon-process.js';
import { scriptArgv, waitExit } from './lib/node-script.js';
import { fixed, median, MIB, table } from './lib/stats.js';
import { machineNote, runBenchMain, zfsReadyPools } from './replication/bench-main.js';
import { checkCommand, runCommand } from './replication/command.js';
import { writeRandom } from './replication/data.js';
import { BenchSetupError, ReplicaMismatchError } from './replication/errors.js';
import { progress } from './replication/log.js';
import { parseRoundsOptions, roundsUsage, type RoundsOptions } from './replication/rounds-options.js';
import { createPool, destroyAllPools, type BenchPool } from './replication/pools.js';
import { destroyTarget, guidsOf } from './replication/targets.js';

const ZFERRY_CLI = fileURLToPath(new URL('../zferry.js', import.meta.url));
const IDENTITY = 'bench';
const JOB = 'push-tls';
const SNAPSHOT = 'bench';
const TARGET_RATIO = 0.9;

const DEFAULTS: RoundsOptions = { rounds: 3, sizeMiB: 1024 };
const USAGE = roundsUsage('bench:tls', 'transfers', DEFAULTS);

type Options = RoundsOptions;

type Variant = 'zferry push → tls sink' | 'raw TLS socket pair';

function parse(argv: readonly string[]): Options | 'help' {
  return parseRoundsOptions(argv, DEFAULTS, USAGE);
}

let sink: BenchDaemon | undefined;
let ca: TestCa | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await sink?.stop().catch(() => undefined);
    await destroyAllPools();
    await removeDaemonDirs();
    await ca?.cleanup();
  })();
  return cleaning;
}

interface RawTransfer {
  ms: number;
  bytes: number;
  cipher: string;
}

/** One stream through the raw pair: the receiver listening first (untimed), then the sender's start to the receiver's exit. */
async function rawTransfer(ca: TestCa, client: { certPath: string; keyPath: string }, snapshot: string, target: string): Promise<RawTransfer> {
  const receiver = spawn(process.execPath, scriptArgv('tls-raw-peer', ['recv', ca.caCertPath, ca.server.certPath, ca.server.keyPath, target]), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  receiver.stdout.setEncoding('utf8');
  receiver.stdout.on('data', (chunk: string) => (out += chunk));
  const received = waitExit(receiver, 'the raw TLS receiver');
  while (!/^listening \d+$/m.test(out)) {
    if (receiver.exitCode !== null) throw new BenchSetupError(`the raw TLS receiver exited before listening: ${out}`);
    await once(receiver.stdout, 'data');
  }
  const port = /^listening (\d+)$/m.exec(out)?.[1] ?? '';
  const started = performance.now();
  const sender = spawn(process.execPath, scriptArgv('tls-raw-peer', ['send', ca.caCertPath, client.certPath, client.keyPath, port, snapshot]), {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await Promise.all([received, waitExit(sender, 'the raw TLS sender')]);
  const ms = performance.now() - started;
  const report = /^received (\d+) (\S+)$/m.exec(out);
  if (report === null) throw new BenchSetupError(`the raw TLS receiver did not report: ${out}`);
  return { ms, bytes: Number(report[1]), cipher: report[2] ?? '' };
}

interface RunJson {
  outcome: string;
  runs: { bytes: number; filesystems: { steps: { durationMs: number; bytes: number }[] }[] }[];
}

async function measure(options: Options): Promise<void> {
  const others = await zfsReadyPools();
  const version = await runCommand([process.execPath, ZFERRY_CLI, '--version']);
  if (version.exitCode !== 0) throw new BenchSetupError(`${ZFERRY_CLI} --version failed: run npm run build first (${version.stderr.trim()})`);
  const notes = [machineNote(others, 'other activity adds noise'), `zferry ${(version.stdout || version.stderr).trim()}, node ${process.version}`];

  const poolMiB = options.sizeMiB + 512;
  progress(`creating two ${poolMiB} MiB pools`);
  const source: BenchPool = await createPool({ sizeMiB: poolMiB, mounted: true });
  const target: BenchPool = await createPool({ sizeMiB: poolMiB, mounted: false });
  const sourceFs = source.dataset('data');
  await checkCommand(['zfs', 'create', sourceFs]);
  progress(`writing ${options.sizeMiB} MiB of random data`);
  await writeRandom(path.join(source.mountpoint ?? '', 'data', 'random.bin'), options.sizeMiB * MIB);
  await checkCommand(['zfs', 'snapshot', `${sourceFs}@${SNAPSHOT}`]);
  const sourceGuids = await guidsOf(sourceFs);
  const rootFs = target.dataset('sink');
  await checkCommand(['zfs', 'create', '-o', 'mountpoint=none', rootFs]);
  const rawParent = target.dataset('raw');
  await checkCommand(['zfs', 'create', '-o', 'mountpoint=none', rawParent]);

  ca = await createTestCa();
  const client = await ca.issueClient(IDENTITY);
  const port = await freePort();
  const sinkDir = await makeDaemonDir();
  const tlsFiles = (cert: string, key: string): string[] => [`      ca: ${ca?.caCertPath ?? ''}`, `      cert: ${cert}`, `      key: ${key}`];
  const sinkYaml = [
    'global:',
    `  state_dir: ${sinkDir.paths.stateDir}`,
    '  control:',
    `    sockpath: ${sinkDir.paths.sockpath}`,
    'jobs:',
    '  - name: sink',
    '    type: sink',
    `    root_fs: ${rootFs}`,
    '    serve:',
    '      type: tls',
    `      listen: "127.0.0.1:${port}"`,
    ...tlsFiles(ca.server.certPath, ca.server.keyPath),
    `      client_cns: [${IDENTITY}]`,
    '',
  ].join('\n');
  sink = await startDaemon(ZFERRY_CLI, sinkDir, sinkYaml);
  const clientDir = await makeDaemonDir();
  await writeFile(
    clientDir.configFile,
    [
      'global:',
      `  state_dir: ${clientDir.paths.stateDir}`,
      'jobs:',
      `  - name: ${JOB}`,
      '    type: push',
      '    connect:',
      '      type: tls',
      `      address: "127.0.0.1:${port}"`,
      ...tlsFiles(client.certPath, client.keyPath),
      '      server_cn: localhost',
      `    filesystems: {"${sourceFs}": true}`,
      '    snapshotting: {type: manual}',
      '    interval: 1h',
      '    conflict_resolution: {initial_replication: all}',
      '',
    ].join('\n'),
  );
  progress(`sink daemon serving tls on 127.0.0.1:${port}; ${options.rounds} rounds of ${options.sizeMiB} MiB each way`);

  const times: Record<Variant, number[]> = { 'zferry push → tls sink': [], 'raw TLS socket pair': [] };
  const stepMs: number[] = [];
  const streamBytes = { zferry: 0, raw: 0 };
  let cipher = '';
  const zferryTarget = `${rootFs}/${IDENTITY}/${sourceFs}`;
  for (let round = 0; round < options.rounds; round++) {
    const order: Variant[] = round % 2 === 0 ? ['zferry push → tls sink', 'raw TLS socket pair'] : ['raw TLS socket pair', 'zferry push → tls sink'];
    for (const variant of order) {
      let ms: number;
      let landedAt: string;
      if (variant === 'zferry push → tls sink') {
        const result = await checkCommand([process.execPath, ZFERRY_CLI, 'run', JOB, '--config', clientDir.configFile, '--json']);
        const summary = JSON.parse(result.stdout) as RunJson;
        const step = summary.runs[0]?.filesystems[0]?.steps[0];
        if (summary.outcome !== 'ok' || step === undefined) throw new BenchSetupError(`${JOB}: outcome ${summary.outcome}: ${result.stdout}`);
        ms = result.ms;
        stepMs.push(step.durationMs);
        streamBytes.zferry = step.bytes;
        landedAt = zferryTarget;
      } else {
        landedAt = `${rawParent}/r${round}`;
        const raw = await rawTransfer(ca, client, `${sourceFs}@${SNAPSHOT}`, landedAt);
        ms = raw.ms;
        streamBytes.raw = raw.bytes;
        cipher = raw.cipher;
      }
      const landed = await guidsOf(landedAt);
      if (landed !== sourceGuids) throw new ReplicaMismatchError(`${variant}: ${landedAt} has snapshot guids ${landed}, the source ${sourceGuids}`);
      times[variant].push(ms);
      progress(`round ${round + 1} ${variant}: ${fixed(ms / 1000)} s, ${fixed((options.sizeMiB * 1000) / ms, 0)} MiB/s`);
      await destroyTarget(landedAt, SNAPSHOT);
    }
  }

  const mibPerSecond = (ms: readonly number[]): number[] => ms.map((each) => (options.sizeMiB * 1000) / each);
  const medianOf = (ms: readonly number[]): number => median(mibPerSecond(ms));
  const raw = medianOf(times['raw TLS socket pair']);
  const ratio = medianOf(times['zferry push → tls sink']) / raw;
  const stepRatio = medianOf(stepMs) / raw;
  const rows = [
    ['transfer', 'median MiB/s', 'each round (MiB/s)'],
    ...(
      [
        ['raw TLS socket pair (sender start to zfs recv exit)', times['raw TLS socket pair']],
        ['zferry push → tls sink (zferry run start to exit)', times['zferry push → tls sink']],
        ['zferry push → tls sink (the step alone, from --json)', stepMs],
      ] as const
    ).map(([label, ms]) => [
      label,
      fixed(medianOf(ms), 0),
      mibPerSecond(ms)
        .map((value) => fixed(value, 0))
        .join(' '),
    ]),
  ];
  notes.push(
    `TLS ${cipher} (raw pair; zferry's transport asks for the same: TLS 1.3, default suites); stream ${streamBytes.raw} bytes raw, ${streamBytes.zferry} by zferry`,
  );
  process.stdout.write(`${notes.map((note) => `# ${note}`).join('\n')}\n\n${table(rows)}\n`);
  process.stdout.write(
    `\ntls push / raw TLS pair: ${fixed(ratio)}x run start to exit (target >= ${TARGET_RATIO}x: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}); ${fixed(stepRatio)}x the step alone\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ bench: 'tls', sizeMiB: options.sizeMiB, rounds: options.rounds, ms: times, stepMs, ratio, stepRatio, cipher, target: TARGET_RATIO })}\n`,
  );
}

runBenchMain({ name: 'bench:tls', parse, usage: USAGE, stops: 'the sink daemon and commands', cleanup, run: measure });
