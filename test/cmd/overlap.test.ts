// A target that equals, contains or lies inside its source on the same pool is refused (exit 2)
// before zferry changes anything, whether each side is reached locally or over ssh to this very
// host; siblings on one pool still replicate.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { runZferry, sshArgs, sshLocation, type CliResult } from '../helpers/cli.js';
import { expectExit } from '../helpers/replication-modes.js';
import { useSshd } from '../helpers/sshd.js';
import { createDataset, listSnapshots, snapshot, usePool, writeFile, zfs } from '../helpers/zfs-pool.js';

const server = useSshd();

type Placement = 'push local' | 'pull local' | 'push to ssh' | 'pull from ssh';
const PLACEMENTS: readonly Placement[] = ['push local', 'pull local', 'push to ssh', 'pull from ssh'];

/** Runs push or pull from `source` to `target` (both on this host), the remote side over ssh where the placement says. */
function replicate(placement: Placement, source: string, target: string, extra: readonly string[] = []): Promise<CliResult> {
  const direction = placement.startsWith('push') ? 'push' : 'pull';
  if (placement === 'push local' || placement === 'pull local') return runZferry([direction, ...extra, source, target]);
  const src = direction === 'pull' ? sshLocation(server(), source) : source;
  const dst = direction === 'push' ? sshLocation(server(), target) : target;
  return runZferry([direction, ...sshArgs(server()), ...extra, src, dst]);
}

/**
 * Everything a run could change on a pool: every dataset and snapshot, every zferry property
 * (set or inherited), and every snapshot's hold count.
 */
async function poolState(pool: string): Promise<{ names: string[]; zferryProperties: string[]; userrefs: string[] }> {
  const names = (await zfs('list', '-t', 'all', '-r', '-H', '-o', 'name', pool)).split('\n').filter(Boolean);
  const rows = (await zfs('get', '-H', '-p', '-r', '-o', 'name,property,value,source', 'all', pool)).split('\n').map((line) => line.split('\t'));
  const zferryProperties = rows.filter(([, property]) => property?.startsWith('zferry:')).map((row) => row.join(' '));
  const userrefs = rows.filter(([name, property]) => name?.includes('@') && property === 'userrefs').map((row) => row.slice(0, 3).join(' '));
  assert.ok(userrefs.length > 0, 'the pool has snapshots whose holds are counted');
  return { names, zferryProperties, userrefs };
}

describe('a target overlapping its source on one pool is refused before anything changes', () => {
  const ctx = usePool({ sizeMiB: 128 });

  /** The tree every form below points into: a with a child b, and q with a child w, each with snapshots. */
  async function tree(): Promise<void> {
    const dataset = (rel: string) => ctx.pool.dataset(rel);
    for (const rel of ['a', 'a/b', 'q', 'q/w']) {
      await createDataset(dataset(rel));
      await writeFile(dataset(rel), 'file', `${rel}\n`);
    }
    await snapshot(`${dataset('a')}@s1`, { recursive: true });
    await snapshot(`${dataset('a')}@s2`, { recursive: true });
    // The child's own snapshot: to a replica of a, b looks diverged (what --on-diverged rename acts on).
    await snapshot(`${dataset('a/b')}@own`);
    await snapshot(`${dataset('q')}@q1`);
    await snapshot(`${dataset('q/w')}@w1`);
    // A cursor and a hold set before the runs: a refused run must not move or add any.
    await zfs('set', 'zferry:cursor.zferry_other_0000=s1', dataset('a'));
    await zfs('hold', 'zferry_other_0000', `${dataset('a')}@s1`);
  }

  const forms = (): Array<{ what: string; source: string; target: string; extra: string[] }> => {
    const d = (rel?: string) => ctx.pool.dataset(rel);
    return [
      { what: 'the same dataset', source: d('a'), target: d('a'), extra: [] },
      { what: 'a target inside the source (recursive)', source: d('a'), target: d('a/copy'), extra: ['-r'] },
      { what: 'a target inside the source (one filesystem)', source: d('a'), target: d('a/copy'), extra: [] },
      { what: "the source's child as target, renamed aside when diverged", source: d('a'), target: d('a/b'), extra: ['-r', '--on-diverged', 'rename'] },
      { what: "the source's parent as target, renamed aside when diverged", source: d('q/w'), target: d('q'), extra: ['-r', '--on-diverged', 'rename'] },
      { what: 'the pool root as target', source: d('q/w'), target: d(), extra: ['--on-diverged', 'rollback'] },
      { what: 'a target inside the source, with --snapshot', source: d('a'), target: d('a/copy'), extra: ['-r', '--snapshot'] },
      { what: 'a target inside the source, with --dry-run', source: d('a'), target: d('a/copy'), extra: ['-r', '--snapshot', '--dry-run'] },
    ];
  };

  before(tree);

  for (const placement of PLACEMENTS) {
    test(`${placement}: every form exits 2 naming both datasets, and the pool is exactly as before`, async () => {
      const before = await poolState(ctx.pool.name);
      for (const form of forms()) {
        const result = expectExit(await replicate(placement, form.source, form.target, form.extra), 2, `${placement}, ${form.what}`);
        assert.match(result.stderr, /\[OVERLAPPING_TARGET\]/, form.what);
        assert.ok(result.stderr.includes(`${form.source} to ${form.target}`), `${form.what}: names both datasets:\n${result.stderr}`);
        assert.deepEqual(await poolState(ctx.pool.name), before, `${placement}, ${form.what}: nothing changed`);
      }
    });
  }
});

describe('datasets on one pool that do not overlap still replicate', () => {
  const ctx = usePool({ sizeMiB: 128 });

  PLACEMENTS.forEach((placement, index) => {
    test(`${placement}: to a sibling, and to a sibling whose name starts with the source's`, async () => {
      const source = ctx.pool.dataset(`a${index}`);
      await createDataset(source);
      await writeFile(source, 'file', 'data\n');
      await snapshot(`${source}@s1`);
      for (const target of [ctx.pool.dataset(`b${index}`), `${source}b`]) {
        expectExit(await replicate(placement, source, target), 0, `${placement} to ${target}`);
        assert.deepEqual(
          (await listSnapshots(target)).map((s) => s.guid),
          (await listSnapshots(source)).map((s) => s.guid),
          `${target} holds the source's snapshots`,
        );
      }
    });
  });
});
