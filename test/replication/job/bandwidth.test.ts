// The bandwidth limit on real zfs-fuse pools: a limited run takes at least as long as its bytes
// allow at the limit (after the bucket's initial burst), the data lands intact (guids), and the
// filesystems one run replicates at once share one bucket: together they stay under the limit,
// through the CLI (`--bwlimit`, locally and pulling over ssh) and through a daemon job's
// `send.bandwidth_limit`. Only lower
// bounds on time: how much slower a busy machine makes a run is no property of the limit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { JobConfig, PushJob } from '../../../config/types.js';
import { Invocation } from '../../../daemon/invocation.js';
import { listenersOf } from '../../../daemon/job-plan.js';
import { EndpointOpener } from '../../../replication/endpoint/open.js';
import type { JobSummary } from '../../../replication/job/types.js';
import { runZferry } from '../../helpers/cli.js';
import { policy, pushToSink, sink } from '../../helpers/daemon-config.js';
import { expectExit, sshMode } from '../../helpers/replication-modes.js';
import { useSshd } from '../../helpers/sshd.js';
import { createDataset, listSnapshots, snapshot, usePool, writeFile } from '../../helpers/zfs-pool.js';

const MiB = 1024 * 1024;
const RATE = 8 * MiB;
/** `--bwlimit 8M`'s bucket: a quarter second of the rate. */
const CAPACITY = 2 * MiB;

/** The least time `bytes` can take at the limit, less 5% for clock granularity. */
const floorMs = (bytes: number): number => ((bytes - CAPACITY) / RATE) * 1000 * 0.95;

async function guids(filesystem: string): Promise<Record<string, string>> {
  return Object.fromEntries((await listSnapshots(filesystem)).map((s) => [s.name, s.guid]));
}

async function push(args: string[]): Promise<JobSummary> {
  return JSON.parse(expectExit(await runZferry(['push', '--json', ...args], { timeoutMs: 120_000 }), 0, 'push').stdout) as JobSummary;
}

test('a --bwlimit that is not a rate is a usage error (exit 2) naming it', async () => {
  for (const rate of ['fast', '50X', '100']) {
    const result = expectExit(await runZferry(['push', '--bwlimit', rate, 'tank/a', 'tank/b']), 2, `--bwlimit ${rate}`);
    assert.match(result.stderr, /--bwlimit/);
  }
});

describe('bandwidth limit', () => {
  const src = usePool({ sizeMiB: 192 });
  const dst = usePool({ sizeMiB: 192 });

  test('a local push of 24 MiB at 8 MiB/s takes no less than the limit allows, and lands intact', async () => {
    const source = await createDataset(src.pool.dataset('one'));
    await writeFile(source, 'data.bin', 24 * MiB);
    await snapshot(`${source}@s1`);
    const target = dst.pool.dataset('one');

    const summary = await push(['--bwlimit', '8M', source, target]);
    assert.equal(summary.outcome, 'ok');
    assert.deepEqual(await guids(target), await guids(source));
    assert.ok(summary.bytes >= 24 * MiB, `${summary.bytes} bytes counted`);
    const allowed = floorMs(summary.bytes);
    assert.ok(summary.durationMs >= allowed, `${summary.bytes} bytes in ${summary.durationMs} ms; 8 MiB/s allows no less than ${allowed.toFixed(0)} ms`);
  });

  const sshd = useSshd();

  test('a pull over ssh is paced the same: the limit sits in the job runner, not in a transport', async () => {
    const source = await createDataset(src.pool.dataset('ssh'));
    await writeFile(source, 'data.bin', 16 * MiB);
    await snapshot(`${source}@s1`);
    const target = dst.pool.dataset('ssh');

    const result = expectExit(await sshMode('pull', sshd).replicate(source, target, ['--json', '--bwlimit', '8M']), 0, 'pull over ssh');
    const summary = JSON.parse(result.stdout) as JobSummary;
    assert.deepEqual(await guids(target), await guids(source));
    // The transfer's own time: the run's would include the ssh handshake and the remote start.
    const steps = summary.filesystems.flatMap((fs) => fs.steps);
    const stepMs = steps.reduce((sum, step) => sum + step.durationMs, 0);
    const allowed = floorMs(summary.bytes);
    assert.ok(stepMs >= allowed, `${summary.bytes} bytes in steps of ${stepMs} ms; 8 MiB/s allows no less than ${allowed.toFixed(0)} ms`);
  });

  test('two filesystems replicated at once share one bucket', async () => {
    const root = await createDataset(src.pool.dataset('two'));
    for (const child of ['a', 'b']) {
      await createDataset(`${root}/${child}`);
      await writeFile(`${root}/${child}`, 'data.bin', 12 * MiB);
    }
    await snapshot(`${root}@s1`, { recursive: true });
    const target = dst.pool.dataset('two');

    const summary = await push(['-r', '-j', '2', '--bwlimit', '8MiB', root, target]);
    assert.equal(summary.outcome, 'ok');
    for (const fs of ['', '/a', '/b']) assert.deepEqual(await guids(`${target}${fs}`), await guids(`${root}${fs}`), `${target}${fs}`);
    // Each child alone at the limit would take half as long: the floor holds only if they shared.
    const allowed = floorMs(summary.bytes);
    assert.ok(
      summary.durationMs >= allowed,
      `${summary.bytes} bytes in ${summary.durationMs} ms over two streams; one 8 MiB/s bucket allows no less than ${allowed.toFixed(0)} ms`,
    );
  });

  test("a daemon push job's send.bandwidth_limit paces its invocation", async () => {
    const root = await createDataset(src.pool.dataset('job'));
    for (const child of ['a', 'b']) {
      await createDataset(`${root}/${child}`);
      await writeFile(`${root}/${child}`, 'data.bin', 8 * MiB);
    }
    await snapshot(`${root}@s1`, { recursive: true });
    const sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    const limited = policy({ concurrency: 2, bandwidthLimit: { send: { maxBytesPerSecond: RATE, bucketCapacityBytes: CAPACITY } } });
    const jobs: JobConfig[] = [sink('sink', 'backups', sinkRoot), pushToSink('limited', { [`${root}<`]: true }, 'backups', 'c1', { replication: limited })];
    const logger = pino({ level: 'silent' });
    const invocation = new Invocation({
      job: jobs[1] as PushJob,
      listeners: listenersOf(jobs),
      opener: new EndpointOpener({ logger }),
      hostname: 'testhost',
      logger,
      trigger: 'run',
    });
    const result = await invocation.result;
    assert.equal(result.outcome, 'ok', JSON.stringify(result.error));
    for (const fs of ['/a', '/b']) assert.deepEqual(await guids(`${sinkRoot}/c1/${root}${fs}`), await guids(`${root}${fs}`));
    const elapsed = result.endedAt - result.startedAt;
    const allowed = floorMs(result.bytes);
    assert.ok(result.bytes >= 16 * MiB, `${result.bytes} bytes counted`);
    assert.ok(elapsed >= allowed, `${result.bytes} bytes in ${elapsed} ms; the job's 8 MiB/s allows no less than ${allowed.toFixed(0)} ms`);
  });
});
