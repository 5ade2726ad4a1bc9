/**
 * SIGINT and SIGTERM in the middle of a stream, in every placement (same host, push and pull
 * over ssh; with and without --batch; Ctrl-C on a terminal): the CLI exits 130 or 143 with a
 * summary that says what was interrupted, nothing more is written to the target after the
 * exit, no zfs process is left, every snapshot carries only zferry's own holds (zfs-fuse
 * leaves a `.send-<pid>-0` hold behind when a `zfs send -I` client is killed or reset), and a
 * run started right after completes. A receive that runs out of space says so and leaks no
 * hold either.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { ZFERRY_SCRIPT, runZferry, sshArgs, sshLocation, startZferry, type CliResult } from '../helpers/cli.js';
import { childProcesses } from '../helpers/processes.js';
import { waitFor } from '../helpers/rpc-util.js';
import { nodeCommand, useSshd } from '../helpers/sshd.js';
import { assertOnlyZferryHolds, assertStoppedGrowing, usedBytes } from '../helpers/transfer-checks.js';
import {
  createDataset,
  datasetExists,
  listSnapshots,
  retryBusy,
  snapshot,
  usePool,
  waitForNoZfsProcesses,
  writeFile,
  zferryCursors,
  zfs,
} from '../helpers/zfs-pool.js';

const MiB = 1024 * 1024;
/** Four snapshots of this much random data each: one stream of ~260 MiB, about a second here. */
const SNAPSHOT_BYTES = 64 * MiB;
/** The receive counts as under way once the target has grown by this much. */
const IN_PROGRESS_BYTES = 24 * MiB;
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

type Placement = 'same host' | 'ssh push' | 'ssh pull';
type Signal = keyof typeof EXIT_CODES;

interface InterruptCase {
  placement: Placement;
  signal: Signal;
  batch: boolean;
  json: boolean;
}

/** Resolves once `dataset` has grown by IN_PROGRESS_BYTES; fails if `stillRunning` turns false first. */
async function receiveUnderWay(dataset: string, stillRunning: () => boolean, output: () => Promise<CliResult>): Promise<void> {
  const start = await usedBytes(dataset);
  const deadline = Date.now() + 60_000;
  while ((await usedBytes(dataset)) < start + IN_PROGRESS_BYTES) {
    if (!stillRunning()) {
      const result = await output();
      assert.fail(`zferry ended before the receive was under way (exit ${result.exitCode}):\n${result.stderr}`);
    }
    if (Date.now() > deadline) assert.fail('the receive never got under way');
    await sleep(40);
  }
}

/** Releases zferry's cursor holds on a replica and destroys it, so the next case has room. */
async function destroyReplica(filesystem: string): Promise<void> {
  if (!(await datasetExists(filesystem))) return;
  for (const [property, { value, source }] of await zferryCursors(filesystem)) {
    if (source !== 'local') continue;
    const tag = property.slice('zferry:cursor.'.length);
    for (const name of value.split(',').filter(Boolean)) await zfs('release', tag, `${filesystem}@${name}`).catch(() => undefined);
  }
  await retryBusy(() => zfs('destroy', '-r', filesystem));
}

/** The source's snapshots are on the target with the same guids (the names of `names`). */
async function assertReplicated(source: string, target: string, names: readonly string[]): Promise<void> {
  const sent = new Map((await listSnapshots(source)).map((s) => [s.name, s.guid]));
  const received = new Map((await listSnapshots(target)).map((s) => [s.name, s.guid]));
  for (const name of names) {
    assert.ok(sent.has(name), `the source has @${name}`);
    assert.equal(received.get(name), sent.get(name), `${target}@${name} has the guid of ${source}@${name}`);
  }
}

describe('an interrupt stops the transfer and says so', () => {
  const sshd = useSshd();
  const sourcePool = usePool({ sizeMiB: 512 });
  const targetPool = usePool({ sizeMiB: 512 });
  const smallPool = usePool({ sizeMiB: 64 });
  let source = '';
  let targets = '';
  const names = ['s0', 's1', 's2', 's3', 's4'];
  let caseNumber = 0;

  before(async () => {
    source = await createDataset(sourcePool.pool.dataset('chain'));
    await writeFile(source, 'seed.bin', MiB);
    await snapshot(`${source}@s0`);
    for (const name of names.slice(1)) {
      await writeFile(source, `${name}.bin`, SNAPSHOT_BYTES);
      await snapshot(`${source}@${name}`);
    }
    // Replicas are never mounted: a read would modify them.
    targets = await createDataset(targetPool.pool.dataset('in'), { properties: { mountpoint: 'none' } });
    await createDataset(smallPool.pool.dataset('in'), { properties: { mountpoint: 'none' } });
  });

  /** The CLI arguments for one run of `source` into `target` in `placement`. */
  function argsFor(placement: Placement, target: string, extra: readonly string[]): string[] {
    switch (placement) {
      case 'same host':
        return ['push', ...extra, source, target];
      case 'ssh push':
        return ['push', ...sshArgs(sshd()), ...extra, source, sshLocation(sshd(), target)];
      case 'ssh pull':
        return ['pull', ...sshArgs(sshd()), ...extra, sshLocation(sshd(), source), target];
    }
  }

  /** After the interrupted run: the summary, the target, the processes, the holds, then a re-run. */
  async function checkInterrupted(
    result: CliResult,
    expectedCode: number,
    target: string,
    json: boolean,
    rerun: () => Promise<CliResult>,
    sent: readonly string[],
  ): Promise<void> {
    // Sampled while the rest is checked.
    const growth = assertStoppedGrowing(targets);
    growth.catch(() => undefined);
    const output = `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
    assert.equal(result.exitCode, expectedCode, output);
    if (json) {
      const summary = JSON.parse(result.stdout) as { outcome: string; filesystems: Array<{ source: string; outcome: string; error?: { code: string } }> };
      assert.equal(summary.outcome, 'interrupted', output);
      const [fs] = summary.filesystems;
      assert.equal(fs?.source, source, output);
      assert.equal(fs?.outcome, 'interrupted', output);
      assert.equal(fs?.error?.code, 'INTERRUPTED', output);
    } else {
      assert.match(result.stderr, new RegExp(`${source} -> ${target}: interrupted`), output);
      assert.match(result.stderr, /\[INTERRUPTED\]/, output);
      assert.match(result.stderr, /INTERRUPTED: 1 of 1 filesystem/, output);
    }
    assert.deepEqual(await waitForNoZfsProcesses(sourcePool.pool.name, 3000), [], 'no zfs process on the source pool is left');
    assert.deepEqual(await waitForNoZfsProcesses(targetPool.pool.name, 3000), [], 'no zfs process on the target pool is left');
    await assertOnlyZferryHolds(source);
    await assertOnlyZferryHolds(target);
    await growth;
    // The target stays at its last complete snapshot: the interrupted stream's never lands.
    if (await datasetExists(target)) {
      const landed = (await listSnapshots(target)).map((s) => s.name);
      assert.ok(!landed.includes('s4'), `the interrupted snapshot did not land (target has ${landed.join(', ')})`);
    }

    const again = await rerun();
    assert.equal(again.exitCode, 0, `the run right after the interrupt completes:\n${again.stderr}`);
    await assertReplicated(source, target, sent);
    await assertOnlyZferryHolds(source);
    await assertOnlyZferryHolds(target);
  }

  const cases: InterruptCase[] = [
    { placement: 'same host', signal: 'SIGINT', batch: false, json: false },
    { placement: 'same host', signal: 'SIGTERM', batch: true, json: true },
    { placement: 'ssh push', signal: 'SIGTERM', batch: false, json: true },
    { placement: 'ssh push', signal: 'SIGINT', batch: true, json: false },
    { placement: 'ssh pull', signal: 'SIGINT', batch: false, json: true },
    { placement: 'ssh pull', signal: 'SIGTERM', batch: true, json: false },
  ];
  for (const { placement, signal, batch, json } of cases) {
    const what = batch ? 'one zfs send -I (--batch)' : 'a full stream';
    test(`${placement}: ${signal} during ${what} exits ${EXIT_CODES[signal]}, stops the transfer and leaks no hold`, async () => {
      const target = `${targets}/c${(caseNumber += 1)}`;
      // Without --batch the one step is a full stream of @s4; with it, @s0 and then one -I stream.
      const extra = [...(batch ? ['--batch'] : ['--initial', 'most-recent']), ...(json ? ['--json'] : [])];
      const run = startZferry(argsFor(placement, target, extra));
      await receiveUnderWay(
        targets,
        () => !run.exited,
        () => run.result,
      );
      run.signal(signal);
      const result = await run.result;
      await checkInterrupted(result, EXIT_CODES[signal], target, json, () => runZferry(argsFor(placement, target, extra)), batch ? names : ['s4']);
      await destroyReplica(target);
    });
  }

  test('same host: a second SIGINT exits without the summary, still after the zfs processes stopped cleanly (--batch)', async () => {
    const target = `${targets}/c${(caseNumber += 1)}`;
    const args = argsFor('same host', target, ['--batch']);
    const run = startZferry(args);
    await receiveUnderWay(
      targets,
      () => !run.exited,
      () => run.result,
    );
    run.signal('SIGINT');
    // Two signals sent at once may arrive as one: the second goes once the first was heard.
    await waitFor(() => /stopping the transfers/.test(run.stderr()), 'zferry heard the first SIGINT');
    run.signal('SIGINT');
    const result = await run.result;
    assert.match(result.stderr, /SIGINT again: exiting without the summary/, result.stderr);
    assert.doesNotMatch(result.stderr, /INTERRUPTED: /, 'no summary');
    assert.equal(result.exitCode, EXIT_CODES.SIGINT, result.stderr);
    await assertStoppedGrowing(targets);
    assert.deepEqual(await waitForNoZfsProcesses(sourcePool.pool.name, 3000), [], 'no zfs process on the source pool is left');
    assert.deepEqual(await waitForNoZfsProcesses(targetPool.pool.name, 3000), [], 'no zfs process on the target pool is left');
    await assertOnlyZferryHolds(source);
    await assertOnlyZferryHolds(target);
    assert.equal((await runZferry(args)).exitCode, 0, 'the next run completes');
    await assertReplicated(source, target, names);
    await destroyReplica(target);
  });

  test('Ctrl-C on a terminal (the whole process group, bytes counted for the progress line) during --batch', async () => {
    const target = `${targets}/c${(caseNumber += 1)}`;
    const args = ['push', '--batch', source, target];
    // script gives zferry a pty: the progress display turns on, and ^C becomes SIGINT for the
    // terminal's foreground process group (zferry and, unless kept apart, its zfs children).
    const terminal = execa('script', ['-qefc', `exec ${nodeCommand(ZFERRY_SCRIPT, args)}`, '/dev/null'], {
      reject: false,
      timeout: 120_000,
      env: { ZFERRY_LOG_LEVEL: 'warn' },
      stdin: 'pipe',
    });
    let exited = false;
    const finished = terminal.then((done) => {
      exited = true;
      return { exitCode: done.exitCode ?? -1, stdout: '', stderr: String(done.stdout) };
    });
    await receiveUnderWay(
      targets,
      () => !exited,
      () => finished,
    );
    terminal.stdin.write('\x03');
    const result = await finished;
    await checkInterrupted(result, EXIT_CODES.SIGINT, target, false, () => runZferry(args), names);
    await destroyReplica(target);
  });

  for (const placement of ['ssh push', 'ssh pull'] as const) {
    test(`${placement}: when the connection dies, the far side stops its zfs process too (--batch)`, async () => {
      const target = `${targets}/c${(caseNumber += 1)}`;
      const args = argsFor(placement, target, ['--batch']);
      const run = startZferry(args);
      await receiveUnderWay(
        targets,
        () => !run.exited,
        () => run.result,
      );
      const ssh = childProcesses(run.pid).find((child) => child.command === 'ssh');
      assert.ok(ssh, 'zferry runs ssh');
      process.kill(ssh.pid, 'SIGKILL');
      const result = await run.result;
      assert.equal(result.exitCode, 1, result.stderr);
      // The far side's zfs process is what the connection fed (push) or drained (pull): it
      // stops when the call is cancelled, not when `zferry serve` gives up and exits (5 s).
      assert.deepEqual(await waitForNoZfsProcesses(sourcePool.pool.name, 2000), [], 'no zfs process on the source pool is left');
      assert.deepEqual(await waitForNoZfsProcesses(targetPool.pool.name, 2000), [], 'no zfs process on the target pool is left');
      await assertStoppedGrowing(targets);
      await assertOnlyZferryHolds(source);
      await assertOnlyZferryHolds(target);
      assert.equal((await runZferry(args)).exitCode, 0, 'the next run completes');
      await assertReplicated(source, target, names);
      await destroyReplica(target);
    });
  }

  for (const batch of [false, true]) {
    test(`same host: a receive that runs out of space says so and leaks no hold (${batch ? 'zfs send -I' : 'full stream'})`, async () => {
      const target = smallPool.pool.dataset(`in/full${batch ? '-batch' : ''}`);
      const result = await runZferry(['push', ...(batch ? ['--batch'] : ['--initial', 'most-recent']), source, target]);
      assert.equal(result.exitCode, 1, result.stderr);
      assert.match(result.stderr, /\[ZFS_OUT_OF_SPACE\].*out of space/, result.stderr);
      assert.deepEqual(await waitForNoZfsProcesses(smallPool.pool.name, 3000), [], 'no zfs process is left');
      await assertOnlyZferryHolds(source);
      await assertOnlyZferryHolds(target);
      await destroyReplica(target);
    });
  }
});
