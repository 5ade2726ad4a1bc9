/**
 * Snapshotting on real pools and real time, through the daemon as it runs: snapshots appear on
 * schedule (periodic every 2 s, cron with a seconds field) under prefix + timestamp in the
 * chosen format and zone; atomically where the selection allows (one createtxg across the
 * job's filesystems), otherwise per root with the log saying why; a restart keeps the rhythm
 * (the newest prefix snapshot decides when the next is due); a push with a prefix replicates
 * only its own snapshots, not the ones made by hand, unless `snapshots.include` names them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { Daemon } from '../../daemon/daemon.js';
import { Invocation } from '../../daemon/invocation.js';
import { listenersOf } from '../../daemon/job-plan.js';
import { SnapInvocation } from '../../daemon/snap-invocation.js';
import { EndpointOpener } from '../../replication/endpoint/open.js';
import type { JobConfig, PushJob, SnapJob, SnapshottingConfig } from '../../config/types.js';
import { daemonConfig, pushToSink, rules, sink, snapJob } from '../helpers/daemon-config.js';
import { takeSnapshots, wholeSubtreeOf } from '../../daemon/take-snapshots.js';
import { memoryLogger, type LogRecord } from '../helpers/zfs-logger.js';
import { createDataset, listSnapshots, snapshot, usePool, zfs } from '../helpers/zfs-pool.js';

const DENSE = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})_(\d{3})$/;

/** The UTC time a dense timestamp names. */
function denseTime(timestamp: string): number {
  const m = DENSE.exec(timestamp);
  assert.ok(m, `not a dense timestamp: ${timestamp}`);
  const [, y, mo, d, h, mi, s, ms] = m.map(Number);
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s, ms);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function prefixed(filesystem: string, prefix: string): Promise<string[]> {
  return (await listSnapshots(filesystem)).map((s) => s.name).filter((name) => name.startsWith(prefix));
}

async function createtxgOf(fullName: string): Promise<string> {
  return (await zfs('get', '-H', '-p', '-o', 'value', 'createtxg', fullName)).trim();
}

async function creationOf(fullName: string): Promise<number> {
  return Number((await zfs('get', '-H', '-p', '-o', 'value', 'creation', fullName)).trim()) * 1000;
}

async function runDaemon<T>(jobs: JobConfig[], logger: Logger, body: () => Promise<T>): Promise<T> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'zferry-snap-'));
  const daemon = await Daemon.create({ config: daemonConfig(jobs, stateDir), logger, version: 'test', opener: new EndpointOpener({ logger }) });
  try {
    await daemon.begin();
    return await body();
  } finally {
    await daemon.shutdown();
    await rm(stateDir, { recursive: true, force: true });
  }
}

function snapJobWith(name: string, filter: Record<string, boolean>, snapshotting: SnapshottingConfig): SnapJob {
  return { ...snapJob(name, filter, 'unused_'), snapshotting };
}

const taken = (records: LogRecord[]): LogRecord[] => records.filter((r) => typeof r.msg === 'string' && r.msg.startsWith('snapshots taken'));

describe('snapshotting', () => {
  const src = usePool();
  const dst = usePool();

  test('a whole subtree is snapshot in one recursive call: one createtxg across the filesystems', async () => {
    const root = await createDataset(src.pool.dataset('atomic1'));
    await createDataset(`${root}/a`);
    await createDataset(`${root}/a/deep`);
    await createDataset(`${root}/b`);
    const { logger, records } = memoryLogger('info');
    const result = await new SnapInvocation({
      job: snapJob('s1', { [`${root}<`]: true }, 'auto_'),
      opener: new EndpointOpener({ logger }),
      logger,
      trigger: 'run',
    }).result;
    assert.equal(result.outcome, 'ok', JSON.stringify(result));
    const [name] = await prefixed(root, 'auto_');
    assert.ok(name !== undefined);
    const txgs = await Promise.all([root, `${root}/a`, `${root}/a/deep`, `${root}/b`].map((fs) => createtxgOf(`${fs}@${name}`)));
    assert.equal(new Set(txgs).size, 1, `one createtxg across the job: ${txgs.join(' ')}`);
    assert.deepEqual(
      taken(records).map((r) => [r.method, r.atomic]),
      [['recursive', true]],
    );

    // The same subtree with one filesystem excluded: never `-r` (it would take the excluded one too).
    const part = await new SnapInvocation({
      job: snapJob('s1', { [`${root}<`]: true, [`${root}/a/deep`]: false }, 'part_'),
      opener: new EndpointOpener({ logger }),
      logger,
      trigger: 'run',
    }).result;
    assert.equal(part.outcome, 'ok', JSON.stringify(part));
    assert.equal((await prefixed(`${root}/a/deep`, 'part_')).length, 0, 'the excluded filesystem has no snapshot');
    assert.equal((await prefixed(`${root}/b`, 'part_')).length, 1);

    // A missing root: said, not failed.
    const missing = await new SnapInvocation({
      job: snapJob('s1', { [`${root}/nope<`]: true }, 'gone_'),
      opener: new EndpointOpener({ logger }),
      logger,
      trigger: 'run',
    }).result;
    assert.equal(missing.outcome, 'ok', JSON.stringify(missing));
    assert.ok(records.some((r) => r.msg === 'filter root does not exist: nothing to snapshot there' && r.filesystem === `${root}/nope`));
  });

  test('hooks around the one call: a filesystem a pre hook leaves out is not snapshot (its subtree no longer whole), post hooks see the rest', async () => {
    const root = await createDataset(src.pool.dataset('hooked1'));
    await createDataset(`${root}/a`);
    await createDataset(`${root}/b`);
    const { logger } = memoryLogger('info');
    const seen: Array<[string, readonly string[], string?]> = [];
    const name = await takeSnapshots({
      job: 'h',
      filesystems: rules({ [`${root}<`]: true }),
      snapshotting: { type: 'periodic', prefix: 'hk_', intervalMs: 60_000, timestampFormat: 'dense' },
      opener: new EndpointOpener({ logger }),
      logger,
      at: new Date(),
      signal: new AbortController().signal,
      hooks: {
        before: (filesystems) => {
          seen.push(['before', [...filesystems]]);
          return Promise.resolve(new Set([`${root}/b`]));
        },
        after: (filesystems, _snapshot, outcome) => {
          seen.push(['after', [...filesystems], outcome]);
          return Promise.resolve();
        },
      },
    });
    assert.ok(name !== undefined);
    assert.deepEqual(seen, [
      ['before', [root, `${root}/a`, `${root}/b`]],
      ['after', [root, `${root}/a`], 'ok'],
    ]);
    assert.equal((await prefixed(`${root}/b`, 'hk_')).length, 0, 'left out by its pre hook');
    assert.equal((await prefixed(`${root}/a`, 'hk_')).length, 1);
  });

  test('which filters are one whole subtree by their rules alone', () => {
    assert.equal(wholeSubtreeOf(rules({ 'tank/a<': true })), 'tank/a');
    assert.equal(wholeSubtreeOf(rules({ 'tank/a<': true, 'tank/a/b<': true, 'tank/a/c': true })), 'tank/a');
    assert.equal(wholeSubtreeOf(rules({ 'tank<': false, 'tank/a<': true })), 'tank/a', 'a rule above the root cannot win below it');
    assert.equal(wholeSubtreeOf(rules({ 'tank/a<': true, 'tank/a/b': false })), undefined);
    assert.equal(wholeSubtreeOf(rules({ 'tank/a<': true, 'tank/b<': true })), undefined, 'two roots');
    assert.equal(wholeSubtreeOf(rules({ 'tank/a': true })), undefined, 'one filesystem, not a subtree');
    assert.equal(wholeSubtreeOf(rules({ '<': true })), undefined);
  });

  test('a selection that is not one subtree: all names in one call where zfs takes several, else per root, logged as not atomic with why', async () => {
    const root = await createDataset(src.pool.dataset('atomic2'));
    await createDataset(`${root}/a`);
    await createDataset(`${root}/b`);
    const other = await createDataset(src.pool.dataset('atomic2x'));
    const { logger, records } = memoryLogger('info');
    const job = snapJob('s2', { [`${root}<`]: true, [`${root}/b`]: false, [`${other}<`]: true }, 'auto_');
    const result = await new SnapInvocation({ job, opener: new EndpointOpener({ logger }), logger, trigger: 'run' }).result;
    assert.equal(result.outcome, 'ok', JSON.stringify(result));
    assert.equal((await prefixed(`${root}/b`, 'auto_')).length, 0, 'the unselected filesystem has no snapshot');
    const [name] = await prefixed(root, 'auto_');
    const txgs = await Promise.all([root, `${root}/a`, other].map((fs) => createtxgOf(`${fs}@${name ?? '?'}`)));
    const [line] = taken(records);
    assert.ok(line !== undefined, 'the step says how it snapshot');
    assert.equal(line.filesystems, 3);
    // What the local zfs takes decides the way; either way the log tells the truth about it.
    const multi = await zfs('snapshot', `${root}/a@probe1`, `${other}@probe1`).then(
      () => true,
      () => false,
    );
    if (multi) {
      assert.deepEqual([line.method, line.atomic], ['one-call', true]);
      assert.equal(new Set(txgs).size, 1, `one createtxg across the job: ${txgs.join(' ')}`);
    } else {
      assert.deepEqual([line.method, line.atomic], ['per-root', false]);
      assert.equal(line.msg, 'snapshots taken, not atomic across the job');
      assert.match(String(line.reason), /too many arguments|one snapshot/);
    }
  });

  test('periodic every 2 s: prefix + timestamp in the chosen format and zone, on the interval', async () => {
    const root = await createDataset(src.pool.dataset('periodic1'));
    const { logger } = memoryLogger('info');
    const job = snapJobWith(
      'p1',
      { [root]: true },
      { type: 'periodic', prefix: 'every2_', intervalMs: 2000, timestampFormat: 'dense', timestampLocation: 'Asia/Kathmandu' },
    );
    const names = await runDaemon([job], logger, () =>
      until('three snapshots', async () => {
        const names = await prefixed(root, 'every2_');
        return names.length >= 3 ? names : undefined;
      }),
    );
    // Kathmandu is UTC+05:45 all year (23 quarter hours): the names' wall clock is that far ahead of their creation.
    const creation = await creationOf(`${root}@${names[0] ?? '?'}`);
    const [first, second, third] = names.map((name) => denseTime(name.slice('every2_'.length)));
    assert.equal(Math.round(((first as number) - creation) / (15 * 60_000)), 23, 'the name carries the time in the configured zone');
    for (const gap of [(second as number) - (first as number), (third as number) - (second as number)]) {
      const seconds = Math.round(gap / 1000);
      assert.ok(seconds > 0 && seconds % 2 === 0, `on the 2 s rhythm: ${gap} ms apart`);
    }
  });

  test('a restart keeps the rhythm: the next snapshot is due one interval after the newest prefix snapshot', async () => {
    const root = await createDataset(src.pool.dataset('rhythm1'));
    await createDataset(`${root}/a`);
    // As if a daemon had snapshot just before it was restarted (the newest decides, on any filesystem).
    await snapshot(`${root}@rhy_20000101_000000_000`);
    await snapshot(`${root}/a@rhy_earlier`);
    await snapshot(`${root}@rhy_newest`);
    const newest = await creationOf(`${root}@rhy_newest`);
    const intervalMs = 5000;
    const { logger, records } = memoryLogger('info');
    const job = snapJobWith('r1', { [`${root}<`]: true }, { type: 'periodic', prefix: 'rhy_', intervalMs, timestampFormat: 'dense' });
    const started = Date.now();
    const name = await runDaemon([job], logger, () =>
      until('the daemon snapshot', async () => (await prefixed(root, 'rhy_')).find((n) => DENSE.test(n.slice(4)) && n !== 'rhy_20000101_000000_000')),
    );
    const inStep = records.find((r) => r.msg === 'snapshotting in step with the newest snapshot' || r.msg?.startsWith('snapshotting now'));
    assert.ok(inStep !== undefined, 'the daemon says when the first snapshot is due');
    if (started < newest + intervalMs) {
      assert.equal(inStep.msg, 'snapshotting in step with the newest snapshot');
      assert.equal(inStep.nextSnapshotAt, new Date(newest + intervalMs).toISOString());
      assert.ok(denseTime(name.slice(4)) >= newest + intervalMs, `not before the newest + interval: ${name}`);
    }

    // No prefix snapshot at all: at once.
    const fresh = await createDataset(src.pool.dataset('rhythm2'));
    const second = memoryLogger('info');
    const firstJob = snapJobWith('r2', { [fresh]: true }, { type: 'periodic', prefix: 'new_', intervalMs: 3_600_000, timestampFormat: 'dense' });
    await runDaemon([firstJob], second.logger, () => until('the first snapshot', async () => (await prefixed(fresh, 'new_'))[0]));
    assert.ok(second.records.some((r) => r.msg?.startsWith('snapshotting now')));
  });

  test('cron with a seconds field: */2 * * * * * snapshots on even seconds', async () => {
    const root = await createDataset(src.pool.dataset('cron1'));
    const { logger } = memoryLogger('info');
    const job = snapJobWith('c1', { [root]: true }, { type: 'cron', prefix: 'cron_', cron: '*/2 * * * * *', timestampFormat: 'human' });
    const names = await runDaemon([job], logger, () =>
      until('two cron snapshots', async () => {
        const names = await prefixed(root, 'cron_');
        return names.length >= 2 ? names : undefined;
      }),
    );
    for (const name of names) {
      const m = /^cron_\d{4}-\d{2}-\d{2}_\d{2}:\d{2}:(\d{2})$/.exec(name);
      assert.ok(m, `a human timestamp: ${name}`);
      assert.equal(Number(m[1]) % 2, 0, `on an even second: ${name}`);
    }
  });

  test('a push on its periodic snapshotting replicates right after each snapshot, in the daemon', async () => {
    const root = await createDataset(src.pool.dataset('pushp1'));
    await createDataset(`${root}/a`);
    await snapshot(`${root}@by_hand`, { recursive: true });
    const sinkRoot = await createDataset(dst.pool.dataset('pushp1sink'), { properties: { mountpoint: 'none' } });
    const snapshotting: SnapshottingConfig = { type: 'periodic', prefix: 'pp_', intervalMs: 2000, timestampFormat: 'dense' };
    const jobs: JobConfig[] = [
      sink('sink', 'pp', sinkRoot),
      pushToSink('pushp1', { [`${root}<`]: true }, 'pp', 'c', { snapshotting, schedule: { kind: 'interval', everyMs: 2000 } }),
    ];
    const { logger } = memoryLogger('info');
    const target = `${sinkRoot}/c/${root}`;
    const sent = await runDaemon(jobs, logger, () =>
      until('two replicated snapshots', async () => {
        const names = await listSnapshots(`${target}/a`).catch(() => []);
        return names.length >= 2 ? names.map((s) => s.name) : undefined;
      }),
    );
    assert.ok(
      sent.every((name) => name.startsWith('pp_')),
      `only its own: ${sent.join(' ')}`,
    );
    const home = await prefixed(`${root}/a`, 'pp_');
    assert.deepEqual(sent, home.slice(0, sent.length), 'each snapshot it took, in order');
  });

  test('a push with a prefix replicates its own snapshots, not the ones made by hand (zrepl#403), unless snapshots.include names them', async () => {
    const root = await createDataset(src.pool.dataset('own1'));
    await snapshot(`${root}@by_hand`);
    const sinkRoot = await createDataset(dst.pool.dataset('own1sink'), { properties: { mountpoint: 'none' } });
    const snapshotting: SnapshottingConfig = { type: 'periodic', prefix: 'zf_', intervalMs: 60_000, timestampFormat: 'dense' };
    const jobs: JobConfig[] = [sink('sink', 'own', sinkRoot), pushToSink('own1', { [root]: true }, 'own', 'c', { snapshotting })];
    const push = jobs[1] as PushJob;
    const logger = memoryLogger('warn').logger;
    const run = (job: PushJob, all: JobConfig[]) =>
      new Invocation({ job, listeners: listenersOf(all), opener: new EndpointOpener({ logger }), hostname: 'h', logger, trigger: 'run' }).result;
    const first = await run(push, jobs);
    assert.equal(first.outcome, 'ok', JSON.stringify(first));
    const target = `${sinkRoot}/c/${root}`;
    const sent = (await listSnapshots(target)).map((s) => s.name);
    assert.equal(sent.length, 1);
    assert.match(sent[0] ?? '', /^zf_/);
    assert.ok(!sent.includes('by_hand'), 'the hand-made snapshot stays home');

    await snapshot(`${root}@by_hand2`);
    const saying = { ...push, replication: { ...push.replication, snapshots: { include: ['by_hand*'], exclude: [] } } };
    const second = await run(saying, [jobs[0] as JobConfig, saying]);
    assert.equal(second.outcome, 'ok', JSON.stringify(second));
    const now = (await listSnapshots(target)).map((s) => s.name);
    assert.ok(now.includes('by_hand2'), `included by the user: ${now.join(' ')}`);
    assert.equal(now.filter((name) => name.startsWith('zf_')).length, 2, 'and its own');
  });
});
