/** `zferry signal wakeup|reset JOB`, run as a real process against a control socket served by a real process. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runZferry } from '../helpers/cli.js';
import { startControlFixture, type ControlFixture } from '../helpers/control-fixture.js';

describe('zferry signal', () => {
  let dir = '';
  let sockpath = '';
  let daemon: ControlFixture;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-signal-'));
    sockpath = path.join(dir, 'run', 'control');
    daemon = await startControlFixture(sockpath);
  });
  after(async () => {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('wakeup and reset reach the daemon; one line each, exit 0', async () => {
    const wakeup = await runZferry(['signal', 'wakeup', 'home-to-backup', '--sockpath', sockpath]);
    assert.equal(wakeup.exitCode, 0, wakeup.stderr);
    assert.equal(wakeup.stdout, 'woke up job home-to-backup: it runs now (see zferry status)');
    const reset = await runZferry(['signal', 'reset', 'hourly', '--sockpath', sockpath]);
    assert.equal(reset.exitCode, 0, reset.stderr);
    assert.equal(reset.stdout, 'reset job hourly: its current run, if any, is being stopped');
    assert.deepEqual(daemon.signals.slice(-2), [
      { action: 'wakeup', job: 'home-to-backup' },
      { action: 'reset', job: 'hourly' },
    ]);
  });

  test('a job the daemon does not run: exit 2, naming the jobs it runs; nothing reaches the daemon', async () => {
    const before = daemon.signals.length;
    const result = await runZferry(['signal', 'wakeup', 'home-to-backpu', '--sockpath', sockpath]);
    assert.equal(result.exitCode, 2);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim(), 'zferry: [UNKNOWN_JOB] no job named "home-to-backpu"; the daemon\'s jobs: home-to-backup, backup-sink, hourly');
    assert.equal(daemon.signals.length, before);
  });

  test('waking a sink: exit 2, JOB_NOT_TRIGGERABLE', async () => {
    const result = await runZferry(['signal', 'wakeup', 'backup-sink', '--sockpath', sockpath]);
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /\[JOB_NOT_TRIGGERABLE\] job "backup-sink" is a sink job/);
  });

  test('an action other than wakeup or reset, or no job: a usage error before any connection', async () => {
    const wrong = await runZferry(['signal', 'wake', 'hourly', '--sockpath', path.join(dir, 'nowhere')]);
    assert.equal(wrong.exitCode, 2);
    assert.match(wrong.stderr, /'wake' is invalid for argument 'action'\. Allowed choices are wakeup, reset/);
    const missing = await runZferry(['signal', 'reset', '--sockpath', sockpath]);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /missing required argument 'job'/);
  });

  test('no daemon: exit 1, saying nothing listens on the socket', async () => {
    const nowhere = path.join(dir, 'nowhere', 'control');
    const result = await runZferry(['signal', 'wakeup', 'hourly', '--sockpath', nowhere]);
    assert.equal(result.exitCode, 1);
    assert.equal(result.stderr.trim(), `zferry: [NO_DAEMON] no zferry daemon is running (nothing listens on ${nowhere})`);
  });
});
