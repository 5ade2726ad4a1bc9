/**
 * Replication scenarios run through the real CLI against real zfs-fuse pools, once per
 * placement (push/pull, local/ssh). Each test uses its own source and target datasets.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { heldCandidates, parseCursorValue } from '../../replication/endpoint/cursor.js';
import type { JobSummary } from '../../replication/job/types.js';
import { expectExit, type ReplicationMode } from './replication-modes.js';
import {
  createDataset,
  datasetExists,
  listAll,
  listSnapshots,
  mountpointOf,
  run,
  snapshot,
  usePool,
  writeFile,
  zfs,
  retryBusy,
  hashFile,
  getProperty,
  zferryCursors,
} from './zfs-pool.js';

/** Releases the holds zferry put on a filesystem's snapshots (found through its cursor properties). */
async function releaseZferryHolds(fs: string): Promise<void> {
  for (const [property, { value }] of await zferryCursors(fs)) {
    // A value names every snapshot that may carry the hold (`c,n` while a move is under way).
    for (const name of heldCandidates(parseCursorValue(value))) {
      await zfs('release', property.slice('zferry:cursor.'.length), `${fs}@${name}`);
    }
  }
}

const guids = async (fs: string): Promise<string[]> => (await listSnapshots(fs)).map((s) => s.guid);
const names = async (fs: string): Promise<string[]> => (await listSnapshots(fs)).map((s) => s.name);

/** Holds on a snapshot (`zfs holds` is broken on zfs-fuse; userrefs counts them). */
const userrefs = async (snapshotName: string): Promise<number> => Number(await getProperty(snapshotName, 'userrefs'));

/**
 * What zferry may leave on a tree besides data: every snapshot's hold count and every
 * `zferry:` property (value and source), one line each.
 */
async function holdsAndCursors(root: string): Promise<string[]> {
  const rows = await zfs('get', '-H', '-p', '-r', '-o', 'name,property,value,source', 'all', root);
  return rows.split('\n').filter((row) => {
    const property = row.split('\t')[1] ?? '';
    return property === 'userrefs' || property.startsWith('zferry:');
  });
}

/** A source filesystem with `count` snapshots s1..sN, a small file written before each. */
async function sourceWithSnapshots(fs: string, count: number, first = 1): Promise<void> {
  if (!(await datasetExists(fs))) await createDataset(fs);
  for (let i = first; i < first + count; i++) {
    await writeFile(fs, `file${i}.bin`, 64 * 1024);
    await snapshot(`${fs}@s${i}`);
  }
}

export function replicationScenarios(mode: ReplicationMode): void {
  describe(`replication: ${mode.name}`, () => {
    const src = usePool({ sizeMiB: 256 });
    const dst = usePool({ sizeMiB: 256 });
    let counter = 0;
    /** Fresh source and target names for one scenario. */
    const pair = (): { source: string; target: string } => {
      counter += 1;
      return { source: src.pool.dataset(`data${counter}`), target: dst.pool.dataset(`copy${counter}`) };
    };

    test('initial (all) then incrementals, content intact', async () => {
      const { source, target } = pair();
      await sourceWithSnapshots(source, 3);
      expectExit(await mode.replicate(source, target), 0, 'initial');
      assert.deepEqual(await guids(target), await guids(source));
      await sourceWithSnapshots(source, 2, 4);
      const json = JSON.parse(expectExit(await mode.replicate(source, target, ['--json']), 0, 'incremental').stdout) as JobSummary;
      assert.deepEqual(await guids(target), await guids(source));
      assert.equal(json.filesystems[0]?.steps.length, 2);
      assert.ok(json.filesystems[0]?.steps.every((step) => step.kind === 'incremental'));
      assert.equal(await hashFile(target, 'file5.bin'), await hashFile(source, 'file5.bin'));
      // Nothing new: up to date, exit 0, nothing sent.
      const again = JSON.parse(expectExit(await mode.replicate(source, target, ['--json']), 0, 'again').stdout) as JobSummary;
      assert.equal(again.filesystems[0]?.outcome, 'up-to-date');
      assert.equal(again.bytes, 0);
    });

    test('initial most-recent sends only the newest snapshot', async () => {
      const { source, target } = pair();
      await sourceWithSnapshots(source, 3);
      expectExit(await mode.replicate(source, target, ['--initial', 'most-recent']), 0, 'most-recent');
      assert.deepEqual(await names(target), ['s3']);
    });

    test('initial fail refuses an empty target and creates nothing', async () => {
      const { source, target } = pair();
      await sourceWithSnapshots(source, 2);
      const result = expectExit(await mode.replicate(source, target, ['--initial', 'fail']), 1, 'initial fail');
      assert.match(result.stderr, /INITIAL_REFUSED/);
      assert.equal(await datasetExists(target), false);
    });

    test('many snapshots, one -I batch or one -i step each', async () => {
      const { source, target } = pair();
      await createDataset(source);
      for (let i = 1; i <= 20; i++) await zfs('snapshot', `${source}@m${String(i).padStart(2, '0')}`);
      const batched = JSON.parse(expectExit(await mode.replicate(source, target, ['--batch', '--json']), 0, 'batch').stdout) as JobSummary;
      // a full send of the oldest, then one -I step carrying the other 19
      assert.equal(batched.filesystems[0]?.steps.length, 2);
      assert.equal(batched.filesystems[0]?.steps[1]?.intermediates, true);
      assert.deepEqual(await guids(target), await guids(source));
      for (let i = 21; i <= 25; i++) await zfs('snapshot', `${source}@m${i}`);
      const single = JSON.parse(expectExit(await mode.replicate(source, target, ['--json']), 0, 'per step').stdout) as JobSummary;
      assert.equal(single.filesystems[0]?.steps.length, 5);
      assert.deepEqual(await guids(target), await guids(source));
    });

    test('recursive tree with children created and destroyed between runs', async () => {
      const { source, target } = pair();
      await createDataset(source);
      await createDataset(`${source}/a`);
      await createDataset(`${source}/a/deep`);
      await createDataset(`${source}/b`);
      await writeFile(`${source}/a/deep`, 'x.bin', 128 * 1024);
      await snapshot(`${source}@r1`, { recursive: true });
      expectExit(await mode.replicate(source, target, ['-r']), 0, 'first tree run');
      for (const rel of ['', '/a', '/a/deep', '/b']) assert.deepEqual(await guids(`${target}${rel}`), await guids(`${source}${rel}`), rel);

      // A replicated source snapshot is held (the incremental base): release it, as a user must.
      await releaseZferryHolds(`${source}/b`);
      await retryBusy(() => zfs('destroy', '-r', `${source}/b`));
      await createDataset(`${source}/c`);
      const result = expectExit(await mode.replicate(source, target, ['-r', '--snapshot', '--json']), 0, 'second tree run');
      const summary = JSON.parse(result.stdout) as JobSummary;
      assert.match(summary.snapshot ?? '', /^.+@zferry_\d{8}T\d{6}Z$/);
      for (const rel of ['', '/a', '/a/deep', '/c']) assert.deepEqual(await guids(`${target}${rel}`), await guids(`${source}${rel}`), rel);
      // b is gone on the source: reported, never destroyed on the target
      assert.ok(await datasetExists(`${target}/b`));
      assert.deepEqual(summary.orphanedTargets, [`${target}/b`]);
    });

    test('diverged target: refused by default, then rolled back', async () => {
      const { source, target } = pair();
      await sourceWithSnapshots(source, 2);
      expectExit(await mode.replicate(source, target), 0, 'initial');
      await zfs('snapshot', `${target}@local-extra`);
      await sourceWithSnapshots(source, 1, 3);
      const refused = expectExit(await mode.replicate(source, target), 1, 'diverged');
      assert.match(refused.stderr, /DIVERGED/);
      assert.match(refused.stderr, /local-extra/);
      assert.deepEqual(await names(target), ['s1', 's2', 'local-extra']);
      expectExit(await mode.replicate(source, target, ['--on-diverged', 'rollback']), 0, 'rollback');
      assert.deepEqual(await guids(target), await guids(source));
    });

    test('diverged target renamed aside keeps every byte', async () => {
      const { source, target } = pair();
      await sourceWithSnapshots(source, 2);
      expectExit(await mode.replicate(source, target), 0, 'initial');
      const extra = await snapshot(`${target}@local-extra`);
      const before = await listSnapshots(target);
      await sourceWithSnapshots(source, 1, 3);
      const summary = JSON.parse(expectExit(await mode.replicate(source, target, ['--on-diverged', 'rename', '--json']), 0, 'rename').stdout) as JobSummary;
      assert.deepEqual(await guids(target), await guids(source));
      const renamed = (await listAll(dst.pool.name)).find((name) => name.startsWith(`${target}-diverged-`) && !name.includes('@'));
      assert.ok(renamed, 'the diverged target is kept under a new name');
      assert.deepEqual(
        await guids(renamed),
        before.map((s) => s.guid),
      );
      assert.ok((await guids(renamed)).includes(extra));
      assert.match(summary.filesystems[0]?.actions.join('\n') ?? '', /renamed diverged/);
    });

    test('target modified since the common snapshot', async () => {
      const { source, target } = pair();
      await sourceWithSnapshots(source, 1);
      expectExit(await mode.replicate(source, target), 0, 'initial');
      await mountpointOf(target);
      const localChange = await writeFile(target, 'local-change.bin', 256 * 1024);
      await sourceWithSnapshots(source, 1, 2);
      const refused = expectExit(await mode.replicate(source, target), 1, 'modified');
      assert.match(refused.stderr, /modified/);
      assert.deepEqual(await names(target), ['s1']);
      // Refused means untouched: a silent rollback would have taken the local change with it.
      const survived = await hashFile(target, 'local-change.bin').catch((error: unknown) => String(error));
      assert.equal(survived, localChange.sha256, 'the local change survives the refusal');
      expectExit(await mode.replicate(source, target, ['--on-diverged', 'rollback']), 0, 'rollback after modification');
      assert.deepEqual(await guids(target), await guids(source));
    });

    test('no common snapshot: refused, target untouched', async () => {
      const { source, target } = pair();
      await sourceWithSnapshots(source, 2);
      await createDataset(target);
      await snapshot(`${target}@unrelated`);
      const before = await listAll(target);
      const refused = expectExit(await mode.replicate(source, target), 1, 'no common');
      assert.match(refused.stderr, /NO_COMMON_SNAPSHOT/);
      assert.match(refused.stderr, /--on-diverged/);
      assert.deepEqual(await listAll(target), before);
    });

    test('a snapshot deleted on the source between runs; the base is held', async () => {
      const { source, target } = pair();
      await sourceWithSnapshots(source, 3);
      expectExit(await mode.replicate(source, target), 0, 'initial');
      // The newest replicated snapshot is the next incremental base: zferry holds it, on both
      // sides, with one hold each, and nothing else.
      const held = async (fs: string): Promise<number[]> => Promise.all((await names(fs)).map((name) => userrefs(`${fs}@${name}`)));
      assert.deepEqual(await held(source), [0, 0, 1], 'source s1, s2, s3: only the base is held');
      assert.deepEqual(await held(target), [0, 0, 1], 'target s1, s2, s3: only the base is held');
      const destroyBase = await run('zfs', ['destroy', `${source}@s3`]);
      assert.notEqual(destroyBase.exitCode, 0, 'the replication cursor must be protected by a hold');
      await zfs('destroy', `${source}@s2`);
      await sourceWithSnapshots(source, 1, 4);
      expectExit(await mode.replicate(source, target), 0, 'after deletion');
      assert.deepEqual(await names(target), ['s1', 's2', 's3', 's4']);
      // The cursor moved: s3 is released, s4 held, on both sides.
      assert.deepEqual(await held(source), [0, 0, 1], 'source s1, s3, s4');
      assert.deepEqual(await held(target), [0, 0, 0, 1], 'target s1, s2, s3, s4');
      assert.equal((await run('zfs', ['destroy', `${source}@s3`])).exitCode, 0, 'the old base is released');
      assert.notEqual((await run('zfs', ['destroy', `${source}@s4`])).exitCode, 0);
    });

    test('--dry-run changes nothing', async () => {
      const { source, target } = pair();
      await sourceWithSnapshots(source, 2);
      const sourceBefore = { datasets: await listAll(source), holds: await holdsAndCursors(source) };
      const result = expectExit(await mode.replicate(source, target, ['--dry-run', '--snapshot', '--json']), 0, 'dry run');
      const summary = JSON.parse(result.stdout) as JobSummary;
      assert.equal(summary.dryRun, true);
      assert.equal(summary.filesystems[0]?.outcome, 'planned');
      assert.ok((summary.filesystems[0]?.plan.length ?? 0) >= 2);
      assert.deepEqual({ datasets: await listAll(source), holds: await holdsAndCursors(source) }, sourceBefore, 'no snapshot, hold or cursor on the source');
      assert.equal(await datasetExists(target), false);

      // Once replicated, both sides have a cursor and a held base: a dry run over new snapshots
      // moves neither.
      expectExit(await mode.replicate(source, target), 0, 'real run');
      await sourceWithSnapshots(source, 2, 3);
      const state = async () => ({
        sourceDatasets: await listAll(source),
        sourceHolds: await holdsAndCursors(source),
        targetDatasets: await listAll(target),
        targetHolds: await holdsAndCursors(target),
      });
      const before = await state();
      assert.ok(
        before.sourceHolds.some((row) => row.split('\t')[1]?.startsWith('zferry:cursor.')),
        'the real run recorded a cursor',
      );
      const again = JSON.parse(
        expectExit(await mode.replicate(source, target, ['--dry-run', '--snapshot', '--json']), 0, 'second dry run').stdout,
      ) as JobSummary;
      assert.equal(again.filesystems[0]?.outcome, 'planned');
      assert.deepEqual(await state(), before, 'no snapshot, hold or cursor moved on either side');
    });

    test('--json summary field by field', async () => {
      const { source, target } = pair();
      await sourceWithSnapshots(source, 2);
      const sourceSnaps = await listSnapshots(source);
      const result = expectExit(await mode.replicate(source, target, ['--json']), 0, 'json');
      const summary = JSON.parse(result.stdout) as JobSummary;
      assert.equal(summary.source, source);
      assert.equal(summary.target, target);
      assert.equal(summary.outcome, 'ok');
      assert.equal(summary.dryRun, false);
      assert.equal(summary.filesystems.length, 1);
      const fs = summary.filesystems[0]!;
      assert.equal(fs.source, source);
      assert.equal(fs.target, target);
      assert.equal(fs.outcome, 'replicated');
      assert.equal(fs.steps.length, 2);
      assert.deepEqual(
        fs.steps.map((step) => [step.kind, step.from, step.to, step.guid]),
        [
          ['full', undefined, `${source}@s1`, sourceSnaps[0]!.guid],
          ['incremental', `${source}@s1`, `${source}@s2`, sourceSnaps[1]!.guid],
        ],
      );
      for (const step of fs.steps) {
        assert.ok(step.bytes > 0);
        assert.ok(step.durationMs >= 0);
        // Same host: the stream bypassed zferry, so its size is zfs recv's rounded report.
        assert.equal(step.bytesApproximate, mode.sameHost ? true : undefined);
      }
      assert.equal(fs.bytes, fs.steps[0]!.bytes + fs.steps[1]!.bytes);
      assert.equal(summary.bytes, fs.bytes);
      assert.ok(summary.durationMs >= fs.durationMs);
      assert.deepEqual(summary.warnings, []);
    });
  });
}
