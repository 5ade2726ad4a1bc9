/**
 * One writer per target, through the CLI: two `zferry push` of one dataset to one new target,
 * started together. The first to lock the target receives; the other waits (the default 5 s),
 * then exits 1 naming the first's pid, and never touches the target: it does not call the
 * first's receive in progress a target "holding data without snapshots" to rename or destroy.
 * The first then completes, the target has the source's guids, no hold is left over, and the
 * loser's command run again finds the target up to date.
 *
 * To hold the first run mid-receive for as long as the test needs (no race with the loser's
 * wait), a stand-in `zfs` first on PATH passes the first full send of @s0 through a gate that
 * stops it after 32 MiB until the test opens it; every other zfs call goes straight to zfs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runZferry, startZferry, type RunningZferry } from '../helpers/cli.js';
import { expectExit } from '../helpers/replication-modes.js';
import { createDataset, datasetExists, heldExactly, listSnapshots, snapshot, userrefsBelow, usePool, writeFile } from '../helpers/zfs-pool.js';

const MiB = 1024 * 1024;
/** The first snapshot's full stream is this big; the gate stops it after GATE_AFTER bytes. */
const FIRST_SNAPSHOT_BYTES = 96 * MiB;
const GATE_AFTER = 32 * MiB;

interface SendGate {
  /** The directory to put first on PATH. */
  readonly dir: string;
  /** Lets the held send go on. */
  open(): void;
  /** The zfs commands (arguments joined by spaces) that process `pid` ran. */
  commandsOf(pid: number): string[];
  cleanup(): void;
}

/**
 * A `zfs` that runs the real one, except that the first `zfs send … SNAPSHOT` (whichever process
 * runs it first: mkdir claims it) stops after GATE_AFTER bytes until open() is called.
 */
function sendGate(gatedSnapshot: string): SendGate {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zferry-sendgate-'));
  const realZfs = execFileSync('sh', ['-c', 'command -v zfs'], { encoding: 'utf8' }).trim();
  const gate = path.join(dir, 'closed');
  const claim = path.join(dir, 'claimed');
  const log = path.join(dir, 'invocations.log');
  writeFileSync(log, '');
  writeFileSync(gate, '');
  const script = [
    '#!/bin/bash',
    'set -o pipefail',
    // Who ran what: zferry spawns zfs itself, so the parent is the zferry process.
    `printf '%s %s\\n' "$PPID" "$*" >> '${log}'`,
    `if [ "$1" = send ] && [ "\${!#}" = '${gatedSnapshot}' ] && mkdir '${claim}' 2>/dev/null; then`,
    `  '${realZfs}' "$@" | { head -c ${GATE_AFTER}; while [ -e '${gate}' ]; do sleep 0.05; done; cat; }`,
    '  exit $?',
    'fi',
    `exec '${realZfs}' "$@"`,
  ].join('\n');
  writeFileSync(path.join(dir, 'zfs'), `${script}\n`);
  chmodSync(path.join(dir, 'zfs'), 0o755);
  return {
    dir,
    open: () => rmSync(gate, { force: true }),
    commandsOf: (pid) =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith(`${pid} `))
        .map((line) => line.slice(line.indexOf(' ') + 1)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The first of `runs` to exit. */
function firstToExit(runs: readonly RunningZferry[]): Promise<RunningZferry> {
  return Promise.race(runs.map((run) => run.result.then(() => run)));
}

describe('two one-shot pushes into one target at once', () => {
  const ctx = usePool({ sizeMiB: 512 });

  test('one replicates; the other waits, then fails naming it, and damages nothing', async () => {
    const source = await createDataset(ctx.pool.dataset('src'));
    await writeFile(source, 'big.bin', FIRST_SNAPSHOT_BYTES);
    await snapshot(`${source}@s0`);
    await writeFile(source, 'small.bin', MiB);
    await snapshot(`${source}@s1`);
    // Replicas are never mounted: a read would modify them.
    const parent = await createDataset(ctx.pool.dataset('in'), { properties: { mountpoint: 'none' } });
    const target = `${parent}/x`;
    const gate = sendGate(`${source}@s0`);
    const args = ['push', '--json', source, target];
    const env = { PATH: `${gate.dir}:${process.env.PATH ?? ''}` };

    let runs: RunningZferry[] = [];
    try {
      runs = [startZferry(args, { env }), startZferry(args, { env })];
      // The gate holds the first run's receive until the other has given up.
      const loser = await firstToExit(runs);
      const winner = runs.find((run) => run !== loser) ?? assert.fail('two runs');
      const lost = await loser.result;
      assert.ok(!winner.exited, `the other run is still receiving:\n${lost.stderr}`);
      assert.ok(await datasetExists(target), 'the first run is mid-receive: its target exists');

      expectExit(lost, 1, 'the run that found the target busy');
      const time = '(\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d:\\d\\d UTC';
      assert.match(
        lost.stderr,
        new RegExp(
          `\\[TARGET_BUSY\\] ${target} is being replicated by another zferry \\(pid ${winner.pid}, job 'push', since ${time}, running zferry push ${source} ${target}\\); try again when it is done`,
        ),
      );
      assert.doesNotMatch(lost.stderr, /refusing|overwrite|[Rr]ename|destroy/);
      assert.equal(lost.stdout, '', 'no summary: nothing was attempted');
      // Not even a listing: the loser's zfs commands name nothing under the replicas' parent.
      assert.ok(
        gate.commandsOf(winner.pid).some((command) => command.includes(target)),
        'the log attributes zfs commands to the process that ran them',
      );
      assert.deepEqual(
        gate.commandsOf(loser.pid).filter((command) => command.includes(parent)),
        [],
      );

      // While it receives, a dry run (which waits like a real run) and a run into a filesystem
      // below the target are refused too; --lock-wait 0 gives up at once.
      const dryRun = expectExit(await runZferry(['push', '--dry-run', '--lock-wait', '0', source, target]), 1, 'a dry run into the busy target');
      assert.match(dryRun.stderr, new RegExp(`\\[TARGET_BUSY\\] ${target} is being replicated by another zferry \\(pid ${winner.pid}, `));
      const below = expectExit(await runZferry(['push', '--lock-wait', '0', source, `${target}/below`]), 1, 'a run into a filesystem below the busy target');
      assert.match(
        below.stderr,
        new RegExp(`\\[TARGET_BUSY\\] ${target}/below lies inside ${target}, which another zferry is replicating into \\(pid ${winner.pid}, `),
      );
      assert.ok(!winner.exited, 'the first run is still held at the gate');

      gate.open();
      const won = expectExit(await winner.result, 0, 'the run that held the target');
      assert.equal((JSON.parse(won.stdout) as { outcome: string }).outcome, 'ok');
    } finally {
      gate.open();
      await Promise.all(runs.map((run) => run.result));
      gate.cleanup();
    }

    assert.deepEqual(
      (await listSnapshots(target)).map((s) => [s.name, s.guid]),
      (await listSnapshots(source)).map((s) => [s.name, s.guid]),
    );
    // One cursor hold on each side's newest snapshot, and nothing else.
    assert.deepEqual(await userrefsBelow(source), await heldExactly(source, 's1'));
    assert.deepEqual(await userrefsBelow(target), await heldExactly(target, 's1'));

    const again = expectExit(await runZferry(args), 0, "the loser's command run again");
    const summary = JSON.parse(again.stdout) as { filesystems: { outcome: string }[] };
    assert.deepEqual(
      summary.filesystems.map((fs) => fs.outcome),
      ['up-to-date'],
    );
    assert.deepEqual(await userrefsBelow(target), await heldExactly(target, 's1'));
  });
});
