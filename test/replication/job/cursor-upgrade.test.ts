/**
 * Upgrading from a version that named the destination as it was spelt (`<hostname>:<target>`
 * for a same-host target, `ssh://[user@]host[:port]/target` over ssh): a cursor recorded under
 * that name is found, the run stays incremental from its base, and afterwards every snapshot
 * carries the current tag's hold only, on both sides: the former hold released, its property
 * gone. Through the real CLI on zfs-fuse pools, on this host and over a real sshd.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { JobSummary } from '../../../replication/job/types.js';
import { runZferry, sshArgs, sshLocation } from '../../helpers/cli.js';
import { expectExit } from '../../helpers/replication-modes.js';
import { useSshd } from '../../helpers/sshd.js';
import { createZfsWrapper } from '../../helpers/zfs-wrappers.js';
import { createDataset, heldExactly, listAll, run, snapshot, usePool, userrefsBelow, writeFile, zferryCursors, zfs } from '../../helpers/zfs-pool.js';

/** The hold tag earlier versions derived from the name of a destination, computed as they did. */
function formerTag(job: string, destination: string): string {
  return `zferry_${job}_${createHash('sha256').update(destination).digest('hex').slice(0, 12)}`;
}

const propertyOf = (tag: string): string => `zferry:cursor.${tag}`;

/** Filesystems at and below `root`. */
async function filesystemsBelow(root: string): Promise<string[]> {
  return (await listAll(root)).filter((name) => !name.includes('@'));
}

/**
 * Replaces the cursors zferry recorded on a tree with what an earlier version left under `tag`
 * after moving to `base`: the value on the root, `^` below it for a recursive job, and the
 * hold (`zfs hold -r` for a recursive job).
 */
async function recordAsEarlierVersion(root: string, tag: string, base: string, recursive: boolean): Promise<void> {
  const filesystems = await filesystemsBelow(root);
  for (const [property] of await zferryCursors(root)) {
    const current = property.slice('zferry:cursor.'.length);
    for (const name of (await listAll(root)).filter((name) => name.includes('@'))) await run('zfs', ['release', current, name]);
    await zfs('inherit', '-r', property, root);
  }
  await zfs('set', `${propertyOf(tag)}=${base}`, root);
  if (recursive && filesystems.length > 1) await zfs('set', `${propertyOf(tag)}=^`, ...filesystems.slice(1));
  await zfs('hold', ...(recursive ? ['-r'] : []), tag, `${root}@${base}`);
  assert.deepEqual(await userrefsBelow(root), await heldExactly(root, base), `${root} recorded the earlier way`);
}

/** Each snapshot below `root` carries one hold, on `base`, under the current tag: the former tag's hold and property are gone. */
async function assertTakenOver(root: string, former: string, base: string): Promise<void> {
  assert.deepEqual(await userrefsBelow(root), await heldExactly(root, base), `holds below ${root}`);
  const rows = (await zfs('get', '-H', '-r', '-o', 'name,source', propertyOf(former), root)).trim().split('\n');
  for (const row of rows) assert.match(row, /\t-$/, `${propertyOf(former)} is gone: ${row}`);
  for (const fs of await filesystemsBelow(root)) {
    const cursors = [...(await zferryCursors(fs))].filter(([, { source }]) => source === 'local');
    assert.equal(cursors.length, 1, `${fs} records one cursor: ${cursors.map(([property]) => property).join(' ')}`);
    assert.equal(cursors[0]?.[1].value, base, `${fs} cursor`);
  }
}

function assertIncremental(summary: JobSummary, count: number): void {
  assert.equal(summary.filesystems.length, count);
  for (const fs of summary.filesystems) {
    assert.equal(fs.outcome, 'replicated', `${fs.source}: ${JSON.stringify(fs.error)}`);
    assert.ok(fs.steps.length > 0 && fs.steps.every((step) => step.kind === 'incremental'), `${fs.source} incremental: ${JSON.stringify(fs.steps)}`);
  }
}

const summaryOf = (stdout: string): JobSummary => JSON.parse(stdout) as JobSummary;

describe('cursors recorded under an earlier name of the destination', () => {
  const src = usePool({ sizeMiB: 128 });
  const dst = usePool({ sizeMiB: 128 });
  const server = useSshd();

  /** A source tree (a root with two children, or the root alone), snapshots taken recursively, replicated once. */
  async function replicatedTree(
    name: string,
    children: string[],
    args: (source: string, target: string) => string[],
  ): Promise<{ source: string; target: string }> {
    const source = src.pool.dataset(name);
    const target = dst.pool.dataset(name);
    await createDataset(source);
    for (const child of children) await createDataset(`${source}/${child}`);
    for (const snap of ['s1', 's2']) {
      await writeFile(source, `${snap}.bin`, 32 * 1024);
      await snapshot(`${source}@${snap}`, { recursive: true });
    }
    expectExit(await runZferry(args(source, target)), 0, 'the first run');
    return { source, target };
  }

  test('same host, a tree: taken over with nothing new, then steady runs only list; the next snapshot is incremental', async (t) => {
    const { source, target } = await replicatedTree('local-tree', ['a', 'b'], (s, d) => ['push', '-r', s, d]);
    const former = formerTag('push', `${os.hostname()}:${target}`);
    for (const root of [source, target]) await recordAsEarlierVersion(root, former, 's2', true);

    const wrapper = createZfsWrapper('recording', (await run('sh', ['-c', 'command -v zfs'])).stdout.trim());
    t.after(() => wrapper.cleanup());
    const env = { PATH: `${wrapper.dir}:${process.env['PATH'] ?? ''}`, XDG_CACHE_HOME: path.join(wrapper.dir, 'cache') };
    const push = async (what: string): Promise<JobSummary> =>
      summaryOf(expectExit(await runZferry(['push', '-r', '--json', source, target], { env }), 0, what).stdout);

    const takeover = await push('the first run after the upgrade');
    assert.deepEqual(takeover.warnings, []);
    assert.ok(takeover.filesystems.every((fs) => fs.outcome === 'up-to-date'));
    for (const root of [source, target]) await assertTakenOver(root, former, 's2');

    // Taken over once: a steady run runs the two listings and nothing else, as before the upgrade.
    wrapper.clear();
    await push('a steady run');
    const steady = wrapper.invocations().map((argv) => `${argv[0]} ${argv.includes('-r') ? '-r ' : ''}${argv.at(-1)}`);
    assert.deepEqual(steady.sort(), [`get -r ${source}`, `get -r ${target}`].sort());

    await snapshot(`${source}@s3`, { recursive: true });
    assertIncremental(await push('the next snapshot'), 3);
    for (const root of [source, target]) await assertTakenOver(root, former, 's3');
  });

  test('same host, one filesystem: the run after the upgrade is incremental from the former base', async () => {
    const { source, target } = await replicatedTree('local-one', [], (s, d) => ['push', s, d]);
    const former = formerTag('push', `${os.hostname()}:${target}`);
    for (const root of [source, target]) await recordAsEarlierVersion(root, former, 's2', false);
    await snapshot(`${source}@s3`);
    const summary = summaryOf(expectExit(await runZferry(['push', '--json', source, target]), 0, 'after the upgrade').stdout);
    assertIncremental(summary, 1);
    assert.equal(summary.filesystems[0]?.steps[0]?.from, `${source}@s2`);
    for (const root of [source, target]) await assertTakenOver(root, former, 's3');
  });

  test('over ssh, push: the target spelt without user and port, one canonical name whatever the spelling', async () => {
    const sshd = server();
    const { source, target } = await replicatedTree('ssh-push', ['a'], (s, d) => ['push', '-r', ...sshArgs(sshd), s, sshLocation(sshd, d)]);
    // `127.0.0.1:target`, the user and port coming from ssh options: earlier versions named it so.
    const account = ['--ssh-option', `User=${sshd.user}`, '--ssh-option', `Port=${sshd.port}`];
    const spelt = `${sshd.host}:${target}`;
    const former = formerTag('push', `ssh://${sshd.host}/${target}`);
    for (const root of [source, target]) await recordAsEarlierVersion(root, former, 's2', true);

    await snapshot(`${source}@s3`, { recursive: true });
    const summary = summaryOf(
      expectExit(await runZferry(['push', '-r', '--json', ...account, ...sshArgs(sshd), source, spelt]), 0, 'after the upgrade').stdout,
    );
    assertIncremental(summary, 2);
    assert.deepEqual(summary.warnings, []);
    for (const root of [source, target]) await assertTakenOver(root, former, 's3');
    // Named as ssh resolved it: the fully spelt location is the same destination, with nothing to move.
    const canonical = `zferry:cursor.${formerTag('push', `ssh://${sshd.user}@${sshd.host}:${sshd.port}/${target}`)}`;
    assert.ok((await zferryCursors(target)).has(canonical), `the cursor is ${canonical}`);
    const again = summaryOf(
      expectExit(await runZferry(['push', '-r', '--json', ...sshArgs(sshd), source, sshLocation(sshd, target)]), 0, 'spelt in full').stdout,
    );
    assert.ok(again.filesystems.every((fs) => fs.outcome === 'up-to-date'));
    for (const root of [source, target]) await assertTakenOver(root, former, 's3');
  });

  test('over ssh, pull: the local target named by this host, taken over on the remote sender too', async () => {
    const sshd = server();
    const { source, target } = await replicatedTree('ssh-pull', [], (s, d) => ['pull', ...sshArgs(sshd), sshLocation(sshd, s), d]);
    const former = formerTag('pull', `${os.hostname()}:${target}`);
    for (const root of [source, target]) await recordAsEarlierVersion(root, former, 's2', false);
    await snapshot(`${source}@s3`);
    const summary = summaryOf(
      expectExit(await runZferry(['pull', '--json', ...sshArgs(sshd), sshLocation(sshd, source), target]), 0, 'after the upgrade').stdout,
    );
    assertIncremental(summary, 1);
    for (const root of [source, target]) await assertTakenOver(root, former, 's3');
  });
});
