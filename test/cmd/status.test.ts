/**
 * `zferry status`, run as a real process against a control socket served by a real process:
 * the JSON shape, the human view, `--watch` without and with a terminal, and no daemon.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import type { DaemonStatus } from '../../daemon/status-types.js';
import { sampleStatus } from '../fixtures/control-status.js';
import { ZFERRY_SCRIPT, runZferry, zferryArgv } from '../helpers/cli.js';
import { startControlFixture, type ControlFixture } from '../helpers/control-fixture.js';
import { nodeCommand } from '../helpers/sshd.js';

const ESC = String.fromCharCode(0x1b);

describe('zferry status', () => {
  let dir = '';
  let sockpath = '';
  let daemon: ControlFixture;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-status-'));
    sockpath = path.join(dir, 'run', 'control');
    daemon = await startControlFixture(sockpath);
  });
  after(async () => {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('--json: the daemon status as documented, on stdout', async () => {
    const result = await runZferry(['status', '--json', '--sockpath', sockpath]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { ...sampleStatus(), pid: daemon.pid });
  });

  test('the human view: each job with its state and last outcome, each filesystem with its progress, age and error', async () => {
    const result = await runZferry(['status', '--sockpath', sockpath]);
    assert.equal(result.exitCode, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.match(lines[0]!, new RegExp(`^zferry 0\\.1\\.0 daemon, pid ${daemon.pid}, up .*; config /etc/zferry/zferry\\.yml, loaded .* ago$`));
    for (const line of ['home-to-backup  push  running', 'backup-sink  sink  serving', 'hourly  snap  idle']) assert.ok(lines.includes(line), line);
    assert.match(result.stdout, /^ {2}last run {4}ok, started .* ago \(schedule\), ended .* ago, took 2m 13s, 3\.0 GiB$/m);
    assert.match(result.stdout, /^ {2}last run {4}FAILED, started .* ago \(wakeup\), ended .* ago, took 5s, 3 attempts, 0 B$/m);
    assert.match(result.stdout, /^ {14}error \[ZFS_OUT_OF_SPACE\] out of space$/m);
    assert.match(result.stdout, /^ {2}skipped {5}2 ticks while a run was still going, last .* ago$/m);
    assert.ok(lines.includes('  tank/home → backup/home  running, step 2/3: incremental @a → @b'));
    assert.ok(lines.includes('    [============>       ] 60%  300.0 MiB of 500.0 MiB  10.0 MiB/s  0:20 left'));
    assert.ok(lines.includes('    last replicated tank/home@a, 3h old'));
    assert.ok(lines.includes('    last replicated tank/home/alice@b, 1m 30s old'));
    assert.match(result.stdout, /^ {4}error \[ZFS_TARGET_MODIFIED\] backup\/home\/bob was modified since its most recent snapshot \(.* ago\)$/m);
    assert.doesNotMatch(result.stdout, new RegExp(ESC), 'no terminal codes when printed once');
  });

  test('a daemon whose status changes: the view follows it', async () => {
    const status: DaemonStatus = {
      ...sampleStatus(),
      jobs: [{ name: 'only', type: 'pull', state: 'idle', schedule: 'manual', skippedTicks: 0, filesystems: [] }],
    };
    const file = path.join(dir, 'status.json');
    await writeFile(file, JSON.stringify(status));
    const other = await startControlFixture(path.join(dir, 'other', 'control'), { statusFile: file });
    try {
      const result = await runZferry(['status', '--sockpath', path.join(dir, 'other', 'control')]);
      assert.equal(result.exitCode, 0, result.stderr);
      assert.deepEqual(result.stdout.split('\n').slice(2), ['only  pull  idle', '  schedule    manual']);
    } finally {
      await other.stop();
    }
  });

  test('--watch --json without a terminal: one JSON line per second, until the daemon goes away (exit 1)', async () => {
    const watched = await startControlFixture(path.join(dir, 'watched', 'control'));
    const child = execa(process.execPath, zferryArgv(['status', '--watch', '--json', '--sockpath', path.join(dir, 'watched', 'control')]), {
      reject: false,
      env: { ZFERRY_LOG_LEVEL: 'warn' },
      stdin: 'ignore',
    });
    const frames: unknown[] = [];
    for await (const line of createInterface({ input: child.stdout })) {
      frames.push(JSON.parse(line));
      if (frames.length === 2) await watched.stop();
    }
    const result = await child;
    assert.equal(frames.length, 2, 'no frame after the daemon went away');
    for (const frame of frames) assert.deepEqual(frame, { ...sampleStatus(), pid: watched.pid });
    assert.equal(result.exitCode, 1);
    assert.match(String(result.stderr), /\[NO_DAEMON\] the zferry daemon on .*watched\/control went away/);
  });

  test('--watch on a terminal: a live view on the alternate screen, through a daemon restart; Ctrl-C leaves it, exit 0', async () => {
    const live = path.join(dir, 'live', 'control');
    let server = await startControlFixture(live);
    // script gives the command a pty; the view then redraws in place until SIGINT. script runs
    // the command with $SHELL; `exec` leaves the view alone in the terminal's process group, so
    // Ctrl-C reaches only it whichever shell that is (dash, unlike bash, dies of the SIGINT).
    const command = `stty cols 200 rows 60; exec ${nodeCommand(ZFERRY_SCRIPT, ['status', '--watch', '--sockpath', live])}`;
    const child = execa('script', ['-qefc', command, '/dev/null'], {
      reject: false,
      env: { ZFERRY_LOG_LEVEL: 'warn', SHELL: '/bin/sh' },
      stdin: 'pipe',
    });
    let output = '';
    let ended = false;
    const watchers = new Set<() => void>();
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      for (const check of watchers) check();
    });
    void child.finally(() => {
      ended = true;
      for (const check of watchers) check();
    });
    /** Resolves once the output so far matches; fails if the view ends first. */
    const waitFor = (pattern: RegExp): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(output)) resolve();
          else if (ended) reject(new Error(`the view ended before showing ${String(pattern)}: ${JSON.stringify(output.slice(-500))}`));
          else return;
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    try {
      await waitFor(/home-to-backup {2}push {2}running/);
      assert.ok(output.startsWith(`${ESC}[?1049h`), 'the view opens the alternate screen');
      await server.stop();
      await waitFor(/the daemon does not answer/);
      server = await startControlFixture(live);
      const seen = output.length;
      await waitFor(new RegExp(`pid ${server.pid},`));
      assert.ok(output.length > seen);
      // Ctrl-C typed on the terminal: the pty sends SIGINT to the view.
      child.stdin.write('\x03');
      const result = await child;
      assert.equal(result.exitCode, 0, String(result.stdout));
      assert.ok(String(result.stdout).trimEnd().endsWith(`${ESC}[?25h${ESC}[?1049l`), JSON.stringify(String(result.stdout).slice(-300)));
    } finally {
      child.kill('SIGKILL');
      await server.stop();
    }
  });

  test("--config: the socket is the config's global.control.sockpath; a broken config is a usage error", async () => {
    const config = path.join(dir, 'zferry.yml');
    await writeFile(config, ['global:', '  control:', `    sockpath: ${sockpath}`, 'jobs: []', ''].join('\n'));
    const result = await runZferry(['status', '--json', '--config', config]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as DaemonStatus).pid, daemon.pid);
    const signal = await runZferry(['signal', 'reset', 'hourly', '--config', config]);
    assert.equal(signal.exitCode, 0, signal.stderr);
    const broken = path.join(dir, 'broken.yml');
    await writeFile(broken, ['global:', '  control:', '    sockpath: relative/control', 'jobs: []', ''].join('\n'));
    const refused = await runZferry(['status', '--config', broken]);
    assert.equal(refused.exitCode, 2);
    assert.match(refused.stderr, new RegExp(`\\[CONFIG\\] .*\\n${broken}:3:15: global\\.control\\.sockpath: `));
  });

  test('no daemon: exit 1, saying nothing listens on the socket; --config with --sockpath: exit 2', async () => {
    const nowhere = path.join(dir, 'nowhere', 'control');
    const result = await runZferry(['status', '--sockpath', nowhere]);
    assert.equal(result.exitCode, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim(), `zferry: [NO_DAEMON] no zferry daemon is running (nothing listens on ${nowhere})`);
    const both = await runZferry(['status', '--sockpath', nowhere, '--config', path.join(dir, 'zferry.yml')]);
    assert.equal(both.exitCode, 2);
    assert.match(both.stderr, /give --config or --sockpath, not both/);
  });
});
