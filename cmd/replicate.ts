/**
 * `zferry push SRC DST` and `zferry pull SRC DST`: one-shot replication. Push runs the sender
 * here and the receiver wherever DST is; pull the other way round. Either side may be local
 * (LocalRPC) or remote (ssh to `zferry serve --stdio`).
 */
import { setMaxListeners } from 'node:events';
import { Option, type Command } from 'commander';
import type { EndpointOpener, OpenedEndpoint } from '../replication/endpoint/open.js';
import { DEFAULT_REMOTE_COMMAND, type EndpointSpec } from '../replication/endpoint/spec.js';
import type { JobSpec, JobSummary } from '../replication/job/types.js';
import { defaultBucketCapacity, type BandwidthLimit } from '../replication/throttle/limit.js';
import type { DivergedPolicy, InitialPolicy } from '../replication/planner/index.js';
import { validateFilesystemName } from '../replication/zfs/names.js';
import { parseByteSize } from '../platform/byte-size.js';
import { errorMessage } from '../platform/errors.js';
import { splitCommand } from './command-words.js';
import { InterruptedError, JobFailedError, UsageError } from './errors.js';
import { abortOnSignals } from './interrupt.js';
import { endpointSpecOf, parseLocation, type SshSettings } from './location.js';
import { createLogger, type Verbosity } from './logger.js';
import { humanSummary } from './output.js';
import { createProgressDisplay } from './progress.js';
import { collect } from './serve.js';

/** Abort listeners one running filesystem keeps on the job's signal, and the job's own (2 measured per filesystem). */
const LISTENERS_PER_RUNNING_FILESYSTEM = 4;
const LISTENERS_PER_JOB = 10;
/** A day: longer is more likely a typo than a wish. */
const MAX_LOCK_WAIT_SECONDS = 86_400;

type Direction = 'push' | 'pull';

interface ReplicateOptions {
  recursive?: boolean;
  snapshot?: boolean;
  initial: InitialPolicy;
  onDiverged: DivergedPolicy;
  batch?: boolean;
  raw?: boolean;
  compressed?: boolean;
  largeBlocks?: boolean;
  embedded?: boolean;
  include: string[];
  exclude: string[];
  jobs: string;
  lockWait: string;
  bwlimit?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: number;
  quiet?: boolean;
  name: string;
  sshKey?: string;
  sshOption: string[];
  remoteCmd?: string;
}

export function registerReplicate(program: Command, direction: Direction): void {
  const description =
    direction === 'push'
      ? 'replicate SRC (a local dataset) to DST (local or [user@]host:pool/fs)'
      : 'replicate SRC (local or [user@]host:pool/fs) to DST (a local dataset)';
  program
    .command(direction)
    .description(description)
    .argument('<src>', 'source dataset')
    .argument('<dst>', 'target dataset')
    .option('-r, --recursive', 'replicate the tree below SRC too (same relative paths under DST)')
    .option('--snapshot', 'take a fresh zferry_<UTC time> snapshot of SRC first (atomic across the tree)')
    .addOption(
      new Option('--initial <policy>', 'empty target: send all snapshots, the most recent only, or fail')
        .choices(['all', 'most-recent', 'fail'])
        .default('all'),
    )
    .addOption(
      new Option('--on-diverged <policy>', 'target moved past the common snapshot: fail, roll it back, or rename it aside and replicate fresh')
        .choices(['fail', 'rollback', 'rename'])
        .default('fail'),
    )
    .option('--batch', 'one `zfs send -I` per run of snapshots instead of one `-i` per snapshot')
    .option('--raw', 'zfs send -w: encrypted datasets stay encrypted (the target never sees the key)')
    .option('--compressed', 'zfs send -c: blocks travel compressed as stored')
    .option('--large-blocks', 'zfs send -L: keep records above 128 KiB (once used for a target, keep using it)')
    .option('--embedded', 'zfs send -e: embedded blocks travel as stored')
    .option('--include <glob>', 'only send snapshots whose name matches (repeatable)', collect, [])
    .option('--exclude <glob>', 'never send snapshots whose name matches (repeatable)', collect, [])
    .option('-j, --jobs <n>', 'filesystems replicated at once', '4')
    .option('--lock-wait <seconds>', 'wait this long for another zferry replicating into DST (or above or below it) to finish', '5')
    .option(
      '--bwlimit <rate>',
      'at most this many bytes per second for the whole run (50M, 50MiB, 500MB: K/M/G and KiB/MiB/GiB are 1024-based, kB/MB/GB 1000-based)',
    )
    .option('-n, --dry-run', 'print the plan; change nothing')
    .option('--json', 'print a machine-readable summary on stdout')
    .option('-v, --verbose', 'more logging (repeat for debug)', (_value: string, previous: number) => previous + 1, 0)
    .option('-q, --quiet', 'only errors')
    .option('--name <job>', 'job name used in hold tags and cursor properties', direction)
    .option('--ssh-key <file>', 'ssh identity file')
    .option('--ssh-option <key=value>', 'extra ssh -o option (repeatable)', collect, [])
    .option('--remote-cmd <command>', `command that serves zferry on the remote (default: ${DEFAULT_REMOTE_COMMAND.join(' ')})`)
    .action(async (src: string, dst: string, options: ReplicateOptions) => {
      await replicate(direction, src, dst, options);
    });
}

async function replicate(direction: Direction, src: string, dst: string, options: ReplicateOptions): Promise<void> {
  const verbosity: Verbosity = options.quiet ? 'quiet' : (options.verbose ?? 0) >= 2 ? 'debug' : options.verbose ? 'verbose' : 'normal';
  const logger = await createLogger(verbosity);
  const source = parseLocation(src);
  const target = parseLocation(dst);
  const local = direction === 'push' ? source : target;
  if (local.kind !== 'local') {
    throw new UsageError(
      direction === 'push' ? `push replicates a local source; ${src} is remote (use pull)` : `pull replicates into a local target; ${dst} is remote (use push)`,
    );
  }
  for (const location of [source, target]) validateFilesystemName(location.dataset);
  const jobs = Number(options.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new UsageError(`--jobs must be an integer from 1 to 64, not ${options.jobs}`);
  const lockWait = Number(options.lockWait);
  if (!Number.isFinite(lockWait) || lockWait < 0 || lockWait > MAX_LOCK_WAIT_SECONDS) {
    throw new UsageError(`--lock-wait must be a number of seconds from 0 to ${MAX_LOCK_WAIT_SECONDS}, not ${options.lockWait}`);
  }
  const bandwidthLimit = options.bwlimit !== undefined ? bandwidthLimitOf(options.bwlimit) : undefined;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(options.name)) throw new UsageError(`--name may only hold letters, digits, _ . - (got ${options.name})`);
  const ssh: SshSettings = {
    options: options.sshOption,
    remoteCommand: options.remoteCmd !== undefined ? splitCommand(options.remoteCmd) : DEFAULT_REMOTE_COMMAND,
    ...(options.sshKey !== undefined ? { identityFile: options.sshKey } : {}),
  };

  // The replication machinery loads once the arguments are known to be good.
  const [{ startReplication }, { snapshotNameFor }, { enabledSendFlags }, { EndpointOpener }] = await Promise.all([
    import('../replication/job/run-job.js'),
    import('../replication/planner/snapshot-name.js'),
    import('../replication/contract.js'),
    import('../replication/endpoint/open.js'),
  ]);
  const sendFlags = enabledSendFlags(options);
  const now = new Date();
  const opened: OpenedEndpoint[] = [];
  const controller = new AbortController();
  // Every call and zfs process in flight listens to the job's signal (a few per running
  // filesystem), so --jobs N legitimately passes node's leak-warning threshold of 10.
  setMaxListeners(LISTENERS_PER_RUNNING_FILESYSTEM * jobs + LISTENERS_PER_JOB, controller.signal);
  const interrupts = abortOnSignals(controller, logger);
  const progress = process.stderr.isTTY && !options.quiet && !options.json ? createProgressDisplay(process.stderr) : undefined;
  let summary: JobSummary;
  try {
    const endpoints = new EndpointOpener({ logger });
    const sender = openSide(endpoints, endpointSpecOf(source, ssh), opened);
    const receiver = openSide(endpoints, endpointSpecOf(target, ssh), opened);
    const destination = await receiver.destination();
    const spec: JobSpec = {
      name: options.name,
      destination: destination.canonical,
      formerDestinations: destination.legacy,
      source: source.dataset,
      target: target.dataset,
      recursive: options.recursive === true,
      plan: {
        initial: options.initial,
        onDiverged: options.onDiverged,
        batch: options.batch === true,
        include: options.include,
        exclude: options.exclude,
      },
      ...(Object.keys(sendFlags).length > 0 ? { sendFlags } : {}),
      concurrency: jobs,
      dryRun: options.dryRun === true,
      ...(options.snapshot ? { snapshotName: snapshotNameFor(now) } : {}),
      // Same host, no byte progress to show and no limit to pace: the kernel moves the stream, as `zfs send | zfs recv` would.
      directPipe: !progress && bandwidthLimit === undefined && source.kind === 'local' && target.kind === 'local',
      ...(bandwidthLimit !== undefined ? { bandwidthLimit } : {}),
      // What a second run into the same target is told about this one.
      lock: { waitMs: lockWait * 1000, command: ['zferry', direction, ...(options.recursive ? ['-r'] : []), src, dst].join(' ') },
    };
    const run = startReplication(spec, {
      sender: sender.client,
      receiver: receiver.client,
      logger,
      signal: controller.signal,
      // The progress line redraws as the run goes, with the share done and the time left
      // where the sender can tell the size.
      ...(progress ? { onProgress: progress.onProgress, estimateSizes: true } : {}),
    });
    progress?.follow(run);
    summary = await run.result;
  } finally {
    progress?.stop();
    await Promise.allSettled(opened.map((side) => side.close()));
  }

  if (options.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else if (!options.quiet || summary.outcome !== 'ok') {
    process.stderr.write(`${humanSummary(summary).join('\n')}\n`);
  }
  if (interrupts.received !== undefined) throw new InterruptedError(interrupts.received);
  if (summary.outcome === 'failed') {
    const failed = summary.filesystems.filter((fs) => fs.outcome === 'failed').map((fs) => fs.source);
    throw new JobFailedError(`replication failed for ${failed.join(', ')}`);
  }
}

/** `--bwlimit RATE`: bytes per second, with the config's default bucket (a quarter second, at least 128 KiB). */
function bandwidthLimitOf(text: string): BandwidthLimit {
  let bytes: number;
  try {
    bytes = parseByteSize(text);
  } catch (error) {
    throw new UsageError(`--bwlimit: ${errorMessage(error)}`);
  }
  if (bytes < 1024) throw new UsageError(`--bwlimit must be at least 1K per second, not ${text}`);
  return { maxBytesPerSecond: bytes, bucketCapacityBytes: defaultBucketCapacity(bytes) };
}

function openSide(endpoints: EndpointOpener, spec: EndpointSpec, opened: OpenedEndpoint[]): OpenedEndpoint {
  const side = endpoints.open(spec);
  opened.push(side);
  return side;
}
