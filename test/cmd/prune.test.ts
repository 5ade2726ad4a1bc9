/**
 * Pruning on real ZFS, through `zferry run` (a push to a sink of the same config, which prunes
 * after replicating) and `zferry prune JOB`: after a run the kept set on each side is exactly
 * what the rules say, computed here on its own; held snapshots, the newest common snapshot and
 * hand-made snapshots (no prefix) survive; --dry-run destroys nothing and prints the decisions
 * the real run then applies; a filesystem never replicated is left alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runZferry } from '../helpers/cli.js';
import { daemonDir, type DaemonDir, sinkAndPushJobs } from '../helpers/daemon-process.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDataset, listSnapshots, snapshot, usePool, zfs } from '../helpers/zfs-pool.js';

interface PruneJson {
  job: string;
  dryRun: boolean;
  sides: Array<{
    side: string;
    root: string;
    error?: unknown;
    filesystems: Array<{ filesystem: string; note?: string; decisions: Array<{ snapshot: string; action: string; reason: string }>; destroyed: string[] }>;
  }>;
}

async function names(filesystem: string): Promise<string[]> {
  return (await listSnapshots(filesystem)).map((s) => s.name);
}

/** The newest `n` of `all` (oldest first) that `owned` accepts. */
function newest(all: readonly string[], n: number, owned: (name: string) => boolean): string[] {
  return all.filter(owned).slice(-n);
}

function decisionsOf(output: PruneJson, side: string): Record<string, string> {
  const fs = output.sides.find((s) => s.side === side)?.filesystems[0];
  return Object.fromEntries((fs?.decisions ?? []).map((d) => [d.snapshot, d.action]));
}

describe('pruning on real ZFS (zferry run, zferry prune)', () => {
  const src = usePool();
  const dst = usePool();
  let dir: DaemonDir;
  let data = '';
  let lonely = '';
  let target = '';
  const owned = (name: string): boolean => name.startsWith('zf_');

  before(async () => {
    dir = await daemonDir();
    data = await createDataset(src.pool.dataset('data'));
    lonely = await createDataset(src.pool.dataset('lonely'));
    const sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    target = `${sinkRoot}/laptop/${data}`;
    for (const name of ['zf_a1', 'zf_keep1', 'manual1', 'zf_a2', 'zf_a3', 'zf_a4', 'zf_a5']) await snapshot(`${data}@${name}`);
    for (const name of ['zf_x1', 'zf_x2', 'zf_x3']) await snapshot(`${lonely}@${name}`);
    await zfs('hold', 'keepme', `${data}@zf_a2`);
    await dir.writeConfig(
      [
        ...sinkAndPushJobs(sinkRoot),
        `    filesystems: {"${data}": true}`,
        '    interval: manual',
        '    snapshotting: {type: periodic, prefix: zf_, interval: 1h}',
        '    conflict_resolution: {initial_replication: all}',
        '    pruning:',
        '      keep_sender: [{type: last_n, count: 3}]',
        '      keep_receiver:',
        '        - {type: last_n, count: 2}',
        '        - {type: regex, regex: "^zf_keep"}',
        '  - name: never',
        '    type: push',
        '    connect: {type: local, listener_name: backups, client_identity: never}',
        `    filesystems: {"${lonely}": true}`,
        '    interval: manual',
        '    snapshotting: {type: manual}',
        '    pruning:',
        '      keep_sender: [{type: last_n, count: 1}]',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await zfs('release', 'keepme', `${data}@zf_a2`).catch(() => undefined);
    await dir.remove();
  });

  test('a filesystem never replicated is left alone, with a note, exit 0', async () => {
    const result = await runZferry(['prune', 'never', '--json', '--config', dir.configFile]);
    assert.equal(result.exitCode, 0, result.stderr);
    const output = JSON.parse(result.stdout) as PruneJson;
    const fs = output.sides[0]?.filesystems[0];
    assert.equal(fs?.filesystem, lonely);
    assert.match(fs?.note ?? '', /never replicated/);
    assert.ok(fs?.decisions.every((d) => d.action === 'keep'));
    assert.deepEqual(await names(lonely), ['zf_x1', 'zf_x2', 'zf_x3']);
  });

  test('after a run, each side keeps exactly what its rules, holds, cursor and ownership say', async () => {
    const run = await runZferry(['run', 'laptop', '--config', dir.configFile]);
    assert.equal(run.exitCode, 0, run.stderr);
    // The run took one snapshot of its own (zf_<time>): the newest, and the cursor on both sides.
    const all = [...['zf_a1', 'zf_keep1', 'manual1', 'zf_a2', 'zf_a3', 'zf_a4', 'zf_a5']];
    const taken = (await names(data)).filter((name) => !all.includes(name));
    assert.equal(taken.length, 1, `one snapshot taken by the run: ${taken.join(', ')}`);
    all.push(...taken);
    const cursor = taken[0] as string;

    const senderKept = new Set([...newest(all, 3, owned), 'zf_a2' /* held */, 'manual1' /* not the job's */, cursor]);
    assert.deepEqual(
      await names(data),
      all.filter((name) => senderKept.has(name)),
    );
    // manual1 is not the job's: it was never sent, so the receiver has nothing of it to keep.
    const receiverKept = new Set([...newest(all, 2, owned), ...all.filter((name) => /^zf_keep/.test(name)), cursor]);
    assert.deepEqual(
      await names(target),
      all.filter((name) => receiverKept.has(name)),
    );
  });

  test('--dry-run destroys nothing and prints the decisions the real prune then applies', async () => {
    await snapshot(`${data}@zf_b1`);
    await snapshot(`${data}@zf_b2`);
    const before = { sender: await names(data), receiver: await names(target) };

    const dry = await runZferry(['prune', 'laptop', '--dry-run', '--json', '--config', dir.configFile]);
    assert.equal(dry.exitCode, 0, dry.stderr);
    assert.deepEqual({ sender: await names(data), receiver: await names(target) }, before);
    const planned = JSON.parse(dry.stdout) as PruneJson;
    assert.equal(planned.dryRun, true);
    const plannedSender = decisionsOf(planned, 'sender');
    // Newer than the last replication: kept whatever last_n says; the older owned ones (but the held and the cursor) go.
    assert.equal(plannedSender['zf_b1'], 'keep');
    assert.equal(plannedSender['zf_a4'], 'destroy');
    assert.equal(plannedSender['zf_a2'], 'keep');
    assert.equal(plannedSender['manual1'], 'keep');

    const real = await runZferry(['prune', 'laptop', '--json', '--config', dir.configFile]);
    assert.equal(real.exitCode, 0, real.stderr);
    const applied = JSON.parse(real.stdout) as PruneJson;
    assert.deepEqual(decisionsOf(applied, 'sender'), plannedSender);
    assert.deepEqual(decisionsOf(applied, 'receiver'), decisionsOf(planned, 'receiver'));
    const keptSender = Object.entries(plannedSender)
      .filter(([, action]) => action === 'keep')
      .map(([name]) => name);
    assert.deepEqual(
      await names(data),
      before.sender.filter((name) => keptSender.includes(name)),
    );
    assert.deepEqual(
      applied.sides.find((s) => s.side === 'sender')?.filesystems[0]?.destroyed.sort(),
      before.sender.filter((n) => !keptSender.includes(n)).sort(),
    );
  });

  test('the human table names each snapshot, its action and why', async () => {
    const result = await runZferry(['prune', 'laptop', '--dry-run', '--config', dir.configFile]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^sender ${data}$`, 'm'));
    assert.match(result.stdout, /^ {2}manual1 +keep +not owned by this job$/m);
    assert.match(result.stdout, /^ {2}zf_a2 +keep +held \(1 hold\)$/m);
    assert.match(result.stdout, /^ {2}zf_keep1 +keep +regex/m);
    assert.match(result.stdout, /dry run: 0 snapshot\(s\) would be destroyed/);
  });

  test('an unknown job, or one without pruning rules, is a usage error (exit 2)', async () => {
    const unknown = await runZferry(['prune', 'nope', '--config', dir.configFile]);
    assert.equal(unknown.exitCode, 2, unknown.stderr);
    const sink = await runZferry(['prune', 'backups', '--config', dir.configFile]);
    assert.equal(sink.exitCode, 2, sink.stderr);
    assert.match(sink.stderr, /no pruning rules/);
  });
});

describe('a grid with short buckets on real ZFS (zferry prune, a snap job)', () => {
  const src = usePool();
  let dir: DaemonDir;
  let data = '';

  before(async () => {
    dir = await daemonDir();
    data = await createDataset(src.pool.dataset('grid'));
    await dir.writeConfig(
      [
        'jobs:',
        '  - name: grid',
        '    type: snap',
        `    filesystems: {"${data}": true}`,
        '    snapshotting: {type: periodic, prefix: auto_, interval: 1h}',
        '    pruning:',
        '      keep: [{type: grid, grid: 3x2s}]',
        '',
      ].join('\n'),
    );
  });

  after(() => dir.remove());

  test('keeps the oldest snapshot of each 2 s bucket back from the newest, nothing older than 6 s, and the hand-made one', async () => {
    // Spread over about 9 s: the creation times zfs records decide, whatever the pauses were.
    for (let i = 0; i < 12; i += 1) {
      await snapshot(`${data}@auto_${String(i).padStart(2, '0')}`);
      if (i === 5) await snapshot(`${data}@by_hand`);
      await sleep(750);
    }
    const rows = (await zfs('get', '-H', '-p', '-o', 'name,property,value', '-d', '1', 'creation,createtxg', data)).split('\n').filter(Boolean);
    const info = new Map<string, { creation: number; createtxg: number }>();
    for (const row of rows) {
      const [name = '', property, value = ''] = row.split('\t');
      if (!name.includes('@')) continue;
      const short = name.slice(name.indexOf('@') + 1);
      const entry = info.get(short) ?? { creation: 0, createtxg: 0 };
      if (property === 'creation') entry.creation = Number(value);
      if (property === 'createtxg') entry.createtxg = Number(value);
      info.set(short, entry);
    }
    const own = [...info].filter(([name]) => name.startsWith('auto_')).sort((a, b) => a[1].createtxg - b[1].createtxg);
    const anchor = Math.max(...own.map(([, s]) => s.creation));
    const firstOfBucket = new Map<number, string>();
    for (const [name, s] of own) {
      const bucket = Math.floor((anchor - s.creation) / 2);
      if (bucket < 3 && !firstOfBucket.has(bucket)) firstOfBucket.set(bucket, name);
    }
    const expected = new Set([...firstOfBucket.values(), 'by_hand']);

    const dry = await runZferry(['prune', 'grid', '--dry-run', '--json', '--config', dir.configFile]);
    assert.equal(dry.exitCode, 0, dry.stderr);
    const decided = decisionsOf(JSON.parse(dry.stdout) as PruneJson, 'local');
    assert.deepEqual(
      Object.keys(decided)
        .filter((name) => decided[name] === 'keep')
        .sort(),
      [...expected].sort(),
    );
    const real = await runZferry(['prune', 'grid', '--config', dir.configFile]);
    assert.equal(real.exitCode, 0, real.stderr);
    assert.deepEqual((await names(data)).sort(), [...expected].sort());
  });
});
