// Targets zfs cannot receive into as asked: the CLI says what is missing (a pool, a parent) in
// words, before a --snapshot is taken; a parent zfs created but could not mount is no failure.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { runZferry, sshArgs, sshLocation, type CliResult } from '../helpers/cli.js';
import { expectExit } from '../helpers/replication-modes.js';
import { useSshd } from '../helpers/sshd.js';
import { createDataset, listAll, listSnapshots, snapshot, usePool, writeFile } from '../helpers/zfs-pool.js';

const server = useSshd();

/** A pool name no test creates. */
const MISSING_POOL = `nopool${process.pid}x${randomBytes(3).toString('hex')}`;

type Placement = 'push local' | 'push to ssh' | 'pull from ssh';

function replicate(placement: Placement, source: string, target: string, extra: readonly string[] = []): Promise<CliResult> {
  if (placement === 'push local') return runZferry(['push', ...extra, source, target]);
  if (placement === 'push to ssh') return runZferry(['push', ...sshArgs(server()), ...extra, source, sshLocation(server(), target)]);
  return runZferry(['pull', ...sshArgs(server()), ...extra, sshLocation(server(), source), target]);
}

describe('a target whose pool or parent is missing is named in words', () => {
  const ctx = usePool({ sizeMiB: 128 });

  for (const placement of ['push local', 'push to ssh', 'pull from ssh'] as const) {
    test(`${placement}: a pool that does not exist is named, and no --snapshot is taken for it`, async () => {
      const source = await createDataset(ctx.pool.dataset(`src-${placement.replaceAll(' ', '-')}`));
      await snapshot(`${source}@s1`);
      const before = await listAll(ctx.pool.name);
      for (const target of [`${MISSING_POOL}/backup/x`, MISSING_POOL]) {
        const result = expectExit(await replicate(placement, source, target, ['--snapshot']), 1, `${placement} to ${target}`);
        assert.ok(result.stderr.includes(`[TARGET_POOL_NOT_FOUND] pool '${MISSING_POOL}' does not exist (target ${target})`), result.stderr);
        assert.doesNotMatch(result.stderr, /missing dataset name/);
      }
      assert.deepEqual(await listAll(ctx.pool.name), before, 'no snapshot taken, nothing created');
    });
  }

  for (const placement of ['push local', 'push to ssh'] as const) {
    test(`${placement}: a child whose target parent was never received names that parent`, async () => {
      // The tree's root has no snapshot, so nothing creates its target; the child cannot land.
      const root = await createDataset(ctx.pool.dataset(`tree-${placement.replaceAll(' ', '-')}`));
      await createDataset(`${root}/child`);
      await snapshot(`${root}/child@s1`);
      const target = ctx.pool.dataset(`backup-${placement.replaceAll(' ', '-')}/tree`);
      const result = expectExit(await replicate(placement, root, target, ['-r']), 1, placement);
      assert.ok(result.stderr.includes(`[ENDPOINT_PARENT_NOT_FOUND]: cannot receive ${target}/child: its parent ${target} does not exist`), result.stderr);
    });
  }
});

describe('a parent created below a read-only filesystem', () => {
  const ctx = usePool({ sizeMiB: 128 });

  test('zfs create cannot mount it (exit 1), yet it exists: the replication goes on', async () => {
    const source = await createDataset(ctx.pool.dataset('src'));
    await writeFile(source, 'file', 'data\n');
    await snapshot(`${source}@s1`);
    // Replicas are often kept below a read-only filesystem, so nobody writes into them.
    const readOnly = await createDataset(ctx.pool.dataset('replicas'), { properties: { readonly: 'on' } });
    const target = `${readOnly}/host/src`;
    expectExit(await runZferry(['push', source, target]), 0, 'push below a read-only filesystem');
    assert.deepEqual(
      (await listSnapshots(target)).map((s) => s.guid),
      (await listSnapshots(source)).map((s) => s.guid),
    );
  });
});
