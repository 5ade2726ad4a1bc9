/**
 * Hooks with real scripts in a temp dir: the environment they see, a hook that hangs killed at
 * its timeout with everything it started, output capped, exit codes, and which hooks run where
 * (hook type, filesystem filter, err_is_fatal stopping the rest).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { HookConfig, HookType } from '../../config/types.js';
import { runHookProcess } from '../../daemon/hook-process.js';
import { hookEnvironment, hooksAt, runHooks, snapshotHooks } from '../../daemon/hooks.js';

const silent = pino({ level: 'silent' });
const POSITION = { file: 'test.yml', line: 1, column: 1 };

/** Whether `pid` still runs (a zombie waiting to be reaped counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('hooks', { timeout: 60_000 }, () => {
  let dir = '';
  const script = async (name: string, body: string): Promise<string> => {
    const file = path.join(dir, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  };
  const hook = (file: string, extra: Partial<HookConfig> = {}): HookConfig => ({
    type: 'command',
    path: file,
    args: [],
    timeoutMs: 30_000,
    errIsFatal: false,
    when: ['pre_snapshot', 'post_snapshot', 'pre_replication', 'post_replication'] satisfies HookType[],
    position: POSITION,
    ...extra,
  });

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-hooks-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a hook sees its variables, its arguments and the JSON on its stdin', async () => {
    const out = path.join(dir, 'env.out');
    const file = await script(
      'env.sh',
      `{ echo "type=$ZFERRY_HOOKTYPE"; echo "job=$ZFERRY_JOB"; echo "fs=$ZFERRY_FS"; echo "snap=$ZFERRY_SNAPNAME"; echo "dry=$ZFERRY_DRYRUN";` +
        ` echo "outcome=$ZFERRY_OUTCOME"; echo "summary=$ZFERRY_SUMMARY"; echo "zrepl=$ZREPL_HOOKTYPE"; echo "args=$*"; echo "stdin=$(cat)"; } > ${out}`,
    );
    const ran = await runHooks(
      [hook(file, { args: ['a b', 'c'] })],
      {
        type: 'post_replication',
        job: 'nightly',
        filesystem: 'tank/data',
        outcome: 'failed',
        summary: 'tank/data -> back/data: failed\nsecond',
        stdin: '{"x":1}',
      },
      { logger: silent },
    );
    assert.deepEqual(ran, { failures: [] });
    assert.deepEqual((await readFile(out, 'utf8')).trim().split('\n'), [
      'type=post_replication',
      'job=nightly',
      'fs=tank/data',
      'snap=',
      'dry=false',
      'outcome=failed',
      'summary=tank/data -> back/data: failed second',
      'zrepl=',
      'args=a b c',
      'stdin={"x":1}',
    ]);
  });

  test("snapshot hooks also get zrepl's variables, so its scripts run unchanged", () => {
    const env = hookEnvironment({ type: 'pre_snapshot', job: 'j', filesystem: 'tank/a', snapshot: 'zferry_1' }, { timeoutMs: 30_000 });
    assert.equal(env.ZFERRY_HOOKTYPE, 'pre_snapshot');
    assert.equal(env.ZFERRY_SNAPNAME, 'zferry_1');
    assert.equal(env.ZREPL_HOOKTYPE, 'pre_snapshot');
    assert.equal(env.ZREPL_FS, 'tank/a');
    assert.equal(env.ZREPL_SNAPNAME, 'zferry_1');
    assert.equal(env.ZREPL_DRYRUN, 'false');
    assert.equal(env.ZFERRY_OUTCOME, undefined);
  });

  test('a hook that hangs is killed at its timeout with its whole process group', async () => {
    const pids = path.join(dir, 'hang.pids');
    const file = await script('hang.sh', `sleep 100 & echo $! > ${pids}; echo started; sleep 100`);
    const result = await runHookProcess({ path: file, args: [], timeoutMs: 300 }, { env: {} });
    assert.equal(result.outcome, 'timeout');
    assert.equal(result.output, 'started\n');
    const background = Number((await readFile(pids, 'utf8')).trim());
    assert.ok(background > 0);
    assert.equal(running(background), false, 'the background sleep of the hook is gone');
  });

  test('a hook that traps SIGTERM is killed after the grace period', async () => {
    const file = await script('stubborn.sh', `trap '' TERM; echo stubborn; sleep 100`);
    const result = await runHookProcess({ path: file, args: [], timeoutMs: 200 }, { env: {}, killGraceMs: 200 });
    assert.equal(result.outcome, 'timeout');
    assert.equal(result.exitSignal, 'SIGKILL');
  });

  test('what a hook leaves running in its group is ended when it exits', async () => {
    const pids = path.join(dir, 'left.pids');
    const file = await script('leaves.sh', `sleep 100 & echo $! > ${pids}; exit 0`);
    const result = await runHookProcess({ path: file, args: [], timeoutMs: 30_000 }, { env: {} });
    assert.equal(result.outcome, 'ok');
    // The kill is sent as the process exits; the kernel takes a moment to carry it out under load.
    const orphan = Number((await readFile(pids, 'utf8')).trim());
    for (let waited = 0; running(orphan) && waited < 5000; waited += 50) await sleep(50);
    assert.equal(running(orphan), false);
  });

  test("a leftover that ignores SIGTERM is killed after the grace period; the outcome is the command's exit code", async () => {
    const pids = path.join(dir, 'stubborn-left.pids');
    const file = await script('stubborn-left.sh', `sh -c "trap '' TERM; sleep 100" & echo $! > ${pids}; exit 0`);
    const result = await runHookProcess({ path: file, args: [], timeoutMs: 30_000 }, { env: {}, killGraceMs: 200 });
    assert.equal(result.outcome, 'ok');
    // The kill is sent as the process exits; the kernel takes a moment to carry it out under load.
    const orphan = Number((await readFile(pids, 'utf8')).trim());
    for (let waited = 0; running(orphan) && waited < 5000; waited += 50) await sleep(50);
    assert.equal(running(orphan), false);
  });

  test('hooks still running when the process exits are killed with it', async () => {
    const pids = path.join(dir, 'orphan.pids');
    const file = await script('orphan.sh', `sleep 100 & echo $! > ${pids}; sleep 100`);
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        [
          "import { readFileSync } from 'node:fs';",
          // The module beside this test: .ts from source (through tsx), .js in dist/.
          `import { runHookProcess } from ${JSON.stringify(new URL(`../../daemon/hook-process${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url).href)};`,
          `void runHookProcess({ path: ${JSON.stringify(file)}, args: [], timeoutMs: 60000 }, { env: {} });`,
          // Exit as soon as the hook has started its background sleep.
          `const wait = () => { try { if (readFileSync(${JSON.stringify(pids)}, 'utf8').trim() !== '') process.exit(0); } catch {} setTimeout(wait, 20); };`,
          'wait();',
        ].join('\n'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    // The kill is sent as the process exits; the kernel takes a moment to carry it out under load.
    const orphan = Number((await readFile(pids, 'utf8')).trim());
    for (let waited = 0; running(orphan) && waited < 5000; waited += 50) await sleep(50);
    assert.equal(running(orphan), false);
  });

  test('output beyond the cap is counted, not kept; stdout and stderr both count', async () => {
    const file = await script('loud.sh', `head -c 100000 /dev/zero | tr '\\0' x; echo err >&2`);
    const result = await runHookProcess({ path: file, args: [], timeoutMs: 30_000 }, { env: {}, outputCapBytes: 1000 });
    assert.equal(result.outcome, 'ok');
    assert.equal(result.output, 'x'.repeat(1000));
    assert.equal(result.droppedBytes, 100000 - 1000 + 'err\n'.length);
  });

  test('exit codes, a missing command, and an abort', async () => {
    const failing = await script('fail.sh', 'echo nope >&2; exit 3');
    const failed = await runHookProcess({ path: failing, args: [], timeoutMs: 30_000 }, { env: {} });
    assert.deepEqual([failed.outcome, failed.exitCode, failed.output], ['failed', 3, 'nope\n']);
    const missing = await runHookProcess({ path: path.join(dir, 'missing'), args: [], timeoutMs: 30_000 }, { env: {} });
    assert.equal(missing.outcome, 'spawn-failed');
    assert.match(missing.spawnError ?? '', /ENOENT/);
    const controller = new AbortController();
    const slow = await script('slow.sh', 'sleep 100');
    const pending = runHookProcess({ path: slow, args: [], timeoutMs: 30_000 }, { env: {}, signal: controller.signal });
    controller.abort(new Error('stop'));
    assert.equal((await pending).outcome, 'aborted');
  });

  test('hooks run where their type and filter say, in order; a fatal failure stops the rest', async () => {
    const log = path.join(dir, 'order.log');
    const one = await script('one.sh', `echo "one $ZFERRY_FS" >> ${log}`);
    const bad = await script('bad.sh', `echo "bad $ZFERRY_FS" >> ${log}; exit 1`);
    const three = await script('three.sh', `echo "three $ZFERRY_FS" >> ${log}`);
    const onlyB = [{ path: 'tank/b', subtree: true, include: true, pattern: 'tank/b<', position: POSITION }];
    const hooks = [
      hook(one, { when: ['pre_snapshot'] }),
      hook(bad, { errIsFatal: true, filesystems: onlyB, when: ['pre_snapshot'] }),
      hook(three, { when: ['pre_snapshot', 'post_snapshot'] }),
    ];
    assert.deepEqual(
      hooksAt(hooks, 'post_snapshot', 'tank/a').map((h) => h.path),
      [three],
    );
    const runner = snapshotHooks('j', hooks, { logger: silent });
    const skipped = await runner.before(['tank/a', 'tank/b/c'], 'zferry_1');
    assert.deepEqual([...skipped], ['tank/b/c']);
    assert.deepEqual(
      runner.fatalFailures.map((f) => [f.filesystem, f.hook, f.message]),
      [['tank/b/c', bad, 'exited with 1']],
    );
    await runner.after(['tank/a'], 'zferry_1', 'ok');
    assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), ['one tank/a', 'three tank/a', 'one tank/b/c', 'bad tank/b/c', 'three tank/a']);
  });

  test('a failure that is not fatal is logged and the next hook runs', async () => {
    const log = path.join(dir, 'lenient.log');
    const bad = await script('lenient-bad.sh', 'exit 2');
    const next = await script('lenient-next.sh', `echo next >> ${log}`);
    const ran = await runHooks([hook(bad), hook(next)], { type: 'pre_replication', job: 'j', filesystem: 'tank' }, { logger: silent });
    assert.equal(ran.fatal, undefined);
    assert.deepEqual(ran.failures, [{ hook: bad, fatal: false, message: 'exited with 2' }]);
    assert.equal(await readFile(log, 'utf8'), 'next\n');
  });
});
