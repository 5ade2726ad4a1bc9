/**
 * `npm run bench:bandwidth`: how closely a bandwidth limit holds. A real local push (the job
 * runner, both sides on zfs-fuse, the stream through this process as with `--bwlimit`) of more
 * data than the limit lets through in the measured time; every byte the receiver is handed is
 * timed, and the rate is printed per one-second window and over the whole time, each as a ratio
 * to the limit. Then the same push unlimited, to show whether the pipeline could go faster (so
 * the limit, not zfs-fuse, set the pace), and the same throttled stream between memory and
 * memory: the limit's own precision where zfs-fuse on a busy machine falls behind it. Table on
 * stdout, then a one-line JSON summary.
 */
import { randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import path from 'node:path';
import { pino } from 'pino';
import { parseByteSize } from '../platform/byte-size.js';
import { EndpointOpener, type OpenedEndpoint } from '../replication/endpoint/open.js';
import { startReplication } from '../replication/job/run-job.js';
import type { EndpointClient, JobSpec } from '../replication/job/types.js';
import { defaultBucketCapacity, type BandwidthLimit } from '../replication/throttle/limit.js';
import { createSharedBucket, throttleReadable } from '../replication/throttle/throttled-stream.js';
import { fixed, MIB, table } from './lib/stats.js';
import { machineNote, runBenchMain, zfsReadyPools } from './replication/bench-main.js';
import { checkCommand } from './replication/command.js';
import { writeRandom } from './replication/data.js';
import { BenchSetupError, BenchUsageError } from './replication/errors.js';
import { progress } from './replication/log.js';
import { createPool, destroyAllPools } from './replication/pools.js';

const USAGE = `usage: bench:bandwidth [--rate RATE] [--seconds N] [--skip-baseline]
  --rate RATE      the limit (default 50M: 50 MiB/s)
  --seconds N      how long to measure at the limit (default 20); the data is 10% more than that allows
  --skip-baseline  leave out the unlimited push of the same data
`;

interface Options {
  rate: number;
  seconds: number;
  skipBaseline: boolean;
}

function parse(argv: readonly string[]): Options | 'help' {
  const options: Options = { rate: 50 * MIB, seconds: 20, skipBaseline: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new BenchUsageError(`${arg} needs a value\n${USAGE}`);
      return next;
    };
    if (arg === '--help' || arg === '-h') return 'help';
    else if (arg === '--rate') options.rate = parseSize(value());
    else if (arg === '--seconds') options.seconds = Number(value());
    else if (arg === '--skip-baseline') options.skipBaseline = true;
    else throw new BenchUsageError(`unknown option ${arg}\n${USAGE}`);
  }
  if (!Number.isInteger(options.seconds) || options.seconds < 2 || options.seconds > 600)
    throw new BenchUsageError(`--seconds: 2 to 600, not ${options.seconds}`);
  return options;
}

function parseSize(text: string): number {
  try {
    return parseByteSize(text);
  } catch (error) {
    throw new BenchUsageError(`--rate: ${(error as Error).message}`);
  }
}

/** Every moment the receiver was handed bytes: ms since the first, and the running total. */
interface Timeline {
  at: number[];
  total: number[];
}

/** The receiver's client, with each receive's stream timed as the receiver reads it. */
function timedReceiver(client: EndpointClient, timeline: Timeline): EndpointClient {
  let origin: number | undefined;
  let total = 0;
  const tap = (stream: Readable): Readable =>
    stream.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          const now = performance.now();
          origin ??= now;
          total += chunk.length;
          timeline.at.push(now - origin);
          timeline.total.push(total);
          callback(null, chunk);
        },
      }),
    );
  return { ...client, receive: (req, stream, opts) => client.receive(req, tap(stream), opts) };
}

/** The running total at `ms` (the last moment at or before it). */
function totalAt(timeline: Timeline, ms: number): number {
  let lo = 0;
  let hi = timeline.at.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((timeline.at[mid] ?? Infinity) <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : (timeline.total[lo - 1] ?? 0);
}

/**
 * The most the receiver got above the rate over any stretch of time: what the token bucket
 * bounds by its capacity (a stall refills the bucket, and the next moments may catch up).
 */
function largestBurst(timeline: Timeline, bytesPerSecond: number): number {
  let lowest = Infinity;
  let largest = 0;
  for (let j = 0; j < timeline.at.length; j++) {
    const at = timeline.at[j] ?? 0;
    // Stretches starting just before sample j's bytes arrived.
    lowest = Math.min(lowest, (timeline.total[j - 1] ?? 0) - (bytesPerSecond * at) / 1000);
    largest = Math.max(largest, (timeline.total[j] ?? 0) - (bytesPerSecond * at) / 1000 - lowest);
  }
  return largest;
}

async function push(
  opener: EndpointOpener,
  source: string,
  target: string,
  limit: BandwidthLimit | undefined,
): Promise<{ timeline: Timeline; bytes: number; ms: number }> {
  const timeline: Timeline = { at: [], total: [] };
  const sides: OpenedEndpoint[] = [opener.open({ kind: 'local', dataset: source }), opener.open({ kind: 'local', dataset: target })];
  const [sender, receiver] = sides as [OpenedEndpoint, OpenedEndpoint];
  try {
    const destination = await receiver.destination();
    const spec: JobSpec = {
      name: 'bench-bandwidth',
      destination: destination.canonical,
      source,
      target,
      recursive: false,
      plan: { initial: 'all', onDiverged: 'fail', batch: false, include: [], exclude: [] },
      concurrency: 1,
      dryRun: false,
      directPipe: false,
      ...(limit !== undefined ? { bandwidthLimit: limit } : {}),
    };
    const started = performance.now();
    const summary = await startReplication(spec, { sender: sender.client, receiver: timedReceiver(receiver.client, timeline), logger: pino({ level: 'warn' }) })
      .result;
    const ms = performance.now() - started;
    if (summary.outcome !== 'ok') throw new BenchSetupError(`push ${source} -> ${target}: ${JSON.stringify(summary.filesystems.map((fs) => fs.error))}`);
    return { timeline, bytes: summary.bytes, ms };
  } finally {
    await Promise.allSettled(sides.map((side) => side.close()));
  }
}

/** What one limited transfer's timeline shows over the measured seconds. */
interface Analysis {
  windows: number[];
  overallBytes: number;
  overall: number;
  steadyBytes: number;
  steady: number;
  burst: number;
}

function analyze(timeline: Timeline, options: Options): Analysis {
  const windows: number[] = [];
  for (let second = 0; second < options.seconds; second++) {
    windows.push((totalAt(timeline, (second + 1) * 1000) - totalAt(timeline, second * 1000)) / options.rate);
  }
  const overallBytes = totalAt(timeline, options.seconds * 1000);
  // After the first second: the initial burst (the full bucket) left out.
  const steadyBytes = overallBytes - totalAt(timeline, 1000);
  return {
    windows,
    overallBytes,
    overall: overallBytes / options.seconds / options.rate,
    steadyBytes,
    steady: steadyBytes / (options.seconds - 1) / options.rate,
    burst: largestBurst(timeline, options.rate),
  };
}

function describe(a: Analysis, options: Options, limit: BandwidthLimit, buffers: string): string[] {
  return [
    `over ${options.seconds} s: ${fixed(a.overallBytes / MIB / options.seconds, 2)} MiB/s, ratio ${fixed(a.overall, 4)} (burst of the full bucket included)`,
    `seconds 2-${options.seconds}: ${fixed(a.steadyBytes / MIB / (options.seconds - 1), 2)} MiB/s, ratio ${fixed(a.steady, 4)}`,
    `one-second windows: min ratio ${fixed(Math.min(...a.windows), 3)}, max ${fixed(Math.max(...a.windows), 3)}`,
    `largest excess over the rate in any stretch: ${fixed(a.burst / MIB, 2)} MiB (the bucket allows ${fixed(limit.bucketCapacityBytes / MIB, 2)} MiB; ${buffers})`,
  ];
}

function jsonOf(a: Analysis): Record<string, unknown> {
  return { overallRatio: a.overall, steadyRatio: a.steady, windowRatios: a.windows, largestBurstBytes: Math.round(a.burst) };
}

/**
 * The same throttled stream (one bucket, the Transform run-step puts between the endpoints)
 * between a source and a reader that are both far faster than the limit: the limit's own
 * precision, whatever zfs-fuse manages on a busy machine.
 */
async function streamOnly(limit: BandwidthLimit, bytes: number): Promise<Timeline> {
  const chunk = randomBytes(MIB);
  const chunks = Math.ceil(bytes / MIB);
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < chunks; i++) yield chunk;
    })(),
  );
  const timeline: Timeline = { at: [], total: [] };
  let origin: number | undefined;
  let total = 0;
  for await (const piece of throttleReadable(source, createSharedBucket(limit))) {
    const now = performance.now();
    origin ??= now;
    total += (piece as Buffer).length;
    timeline.at.push(now - origin);
    timeline.total.push(total);
  }
  return timeline;
}

async function run(options: Options): Promise<void> {
  const others = await zfsReadyPools();
  const limit: BandwidthLimit = { maxBytesPerSecond: options.rate, bucketCapacityBytes: defaultBucketCapacity(options.rate) };
  const dataBytes = Math.ceil((options.rate * options.seconds * 1.1) / MIB) * MIB;
  const poolMiB = Math.ceil((dataBytes * 1.25) / MIB) + 128;
  progress(`creating the pools; writing ${dataBytes / MIB} MiB of random data`);
  const sourcePool = await createPool({ sizeMiB: poolMiB, mounted: true });
  // Room for both pushes (the limited replica keeps its cursor hold: no destroying it between).
  const targetPool = await createPool({ sizeMiB: options.skipBaseline ? poolMiB : 2 * poolMiB, mounted: false });
  const source = sourcePool.dataset('data');
  await checkCommand(['zfs', 'create', '-o', 'compression=off', source]);
  await writeRandom(path.join(sourcePool.mountpoint ?? '', 'data', 'payload.bin'), dataBytes);
  await checkCommand(['zfs', 'snapshot', `${source}@s1`]);
  const opener = new EndpointOpener({ logger: pino({ level: 'warn' }) });

  progress(`pushing at most ${fixed(options.rate / MIB, 1)} MiB/s (bucket ${fixed(limit.bucketCapacityBytes / MIB, 1)} MiB)`);
  const zfsRun = analyze((await push(opener, source, targetPool.dataset('limited'), limit)).timeline, options);

  let baseline: { mibPerSecond: number } | undefined;
  if (!options.skipBaseline) {
    progress('the same push without a limit');
    const free = await push(opener, source, targetPool.dataset('free'), undefined);
    baseline = { mibPerSecond: free.bytes / MIB / (free.ms / 1000) };
  }
  progress(`the throttled stream alone, ${fixed(options.rate / MIB, 1)} MiB/s between memory and memory`);
  const memoryRun = analyze(await streamOnly(limit, dataBytes), options);

  const rows = [
    ['second', 'zfs push MiB', 'ratio', 'stream only MiB', 'ratio'],
    ...zfsRun.windows.map((ratio, second) => {
      const alone = memoryRun.windows[second] ?? 0;
      return [String(second + 1), fixed((ratio * options.rate) / MIB, 1), fixed(ratio, 3), fixed((alone * options.rate) / MIB, 1), fixed(alone, 3)];
    }),
  ];
  const lines = [
    `limit ${fixed(options.rate / MIB, 1)} MiB/s, bucket ${fixed(limit.bucketCapacityBytes / MIB, 2)} MiB; ${fixed(dataBytes / MIB, 0)} MiB of random data`,
    table(rows),
    'zfs push (one local push through the job runner, zfs-fuse both sides, timed as zfs recv is handed the bytes):',
    ...describe(zfsRun, options, limit, 'the stream buffers between the limit and zfs recv, about 2 MiB, may add to it').map((line) => `  ${line}`),
    ...(baseline !== undefined
      ? [`  the same push unlimited: ${fixed(baseline.mibPerSecond, 1)} MiB/s (${fixed((baseline.mibPerSecond * MIB) / options.rate, 2)}x the limit)`]
      : []),
    'stream only (the same throttled stream and bucket, memory to memory):',
    ...describe(memoryRun, options, limit, 'one 64 KiB slice may add to it').map((line) => `  ${line}`),
    machineNote(others, 'other activity adds noise; a zfs window below the limit is zfs-fuse falling behind, one above it the bucket catching up'),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'bandwidth',
      limitBytesPerSecond: options.rate,
      bucketBytes: limit.bucketCapacityBytes,
      seconds: options.seconds,
      zfs: { ...jsonOf(zfsRun), ...(baseline !== undefined ? { unlimitedMiBPerSecond: baseline.mibPerSecond } : {}) },
      streamOnly: jsonOf(memoryRun),
    })}\n`,
  );
}

runBenchMain<Options>({
  name: 'bench:bandwidth',
  parse,
  usage: USAGE,
  stops: 'the push',
  cleanup: destroyAllPools,
  run,
});
