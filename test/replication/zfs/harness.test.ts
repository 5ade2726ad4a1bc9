/**
 * The throwaway-pool harness itself: pools are unique and cleaned up on every way out of a
 * process (normal exit, SIGTERM, SIGINT, even with a busy pool), SIGKILL leftovers are
 * swept, and a missing ZFS is a clear error, not a skip.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestPool, run, sweepStalePools, withPool, zfs, zfsProcesses } from '../../helpers/zfs-pool.js';
import { createZfsWrapper } from '../../helpers/zfs-wrappers.js';

const here = fileURLToPath(import.meta.url);
/** Same extension as this file: .ts under tsx, .js in the compiled tree. */
const childScript = path.join(path.dirname(here), '..', '..', 'helpers', `zfs-pool-child${path.extname(here)}`);

interface Child {
  pid: number;
  report: Record<string, unknown>;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  kill(signal: NodeJS.Signals): void;
}

async function startChild(mode: string, env: NodeJS.ProcessEnv = process.env): Promise<Child> {
  // Keep loaders such as `--import tsx`; drop the test runner's own flags and context.
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--test'));
  const { NODE_TEST_CONTEXT: _ignored, ...cleanEnv } = env;
  const child = spawn(process.execPath, [...execArgv, childScript, mode], {
    env: cleanEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([once(lines, 'line'), exited.then(() => [undefined])])) as [string | undefined];
  lines.close();
  if (line === undefined) throw new Error(`child (${mode}) exited before reporting`);
  return {
    pid: child.pid ?? -1,
    report: JSON.parse(line) as Record<string, unknown>,
    exited,
    kill: (signal) => child.kill(signal),
  };
}

async function poolExists(name: string): Promise<boolean> {
  return (await run('zpool', ['list', '-H', '-o', 'name', name])).exitCode === 0;
}

async function waitUntilGone(name: string, dir: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await poolExists(name)) || existsSync(dir)) {
    if (Date.now() > deadline) assert.fail(`pool ${name} or ${dir} still there after ${timeoutMs} ms`);
    await sleep(200);
  }
}

describe('zfs test pool harness', () => {
  test('pools are unique, mounted under their own temp dir, and destroyed', async () => {
    const [a, b] = await Promise.all([createTestPool(), createTestPool({ sizeMiB: 64 })]);
    try {
      assert.notEqual(a.name, b.name);
      assert.match(a.name, new RegExp(`^zft${process.pid}x[0-9a-f]+$`));
      assert.equal(await zfs('get', '-H', '-o', 'value', 'mountpoint', a.name), a.mountpoint);
      assert.equal(await zfs('get', '-H', '-o', 'value', 'atime', a.name), 'off');
      assert.equal(a.dataset('x/y'), `${a.name}/x/y`);
      assert.equal(a.dataset(), a.name);
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
    assert.equal(await poolExists(a.name), false);
    assert.equal(existsSync(a.dir), false);
    await a.destroy(); // idempotent
  });

  test('withPool destroys the pool when the callback throws', async () => {
    let name = '';
    await assert.rejects(
      withPool(async (pool) => {
        name = pool.name;
        throw new Error('test body failed');
      }),
      /test body failed/,
    );
    assert.equal(await poolExists(name), false);
  });

  test('a process that exits without cleaning up still destroys its pool', async () => {
    const child = await startChild('exit');
    await child.exited;
    await waitUntilGone(String(child.report.pool), String(child.report.dir));
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} destroys the pool`, async () => {
      const child = await startChild('wait');
      assert.equal(await poolExists(String(child.report.pool)), true);
      child.kill(signal);
      const [code] = await child.exited;
      assert.equal(code, 128 + (signal === 'SIGTERM' ? 15 : 2));
      await waitUntilGone(String(child.report.pool), String(child.report.dir));
    });
  }

  test('SIGTERM with a transfer still holding the pool busy: destroyed once the process is gone', async (t) => {
    const child = await startChild('busy');
    // A failed premise must not leave the child (and its pool) behind.
    t.after(() => child.kill('SIGTERM'));
    const pool = String(child.report.pool);
    // The premise: the child's zfs send is running and zfs refuses to destroy the pool.
    assert.deepEqual(
      zfsProcesses(pool).map((p) => p.argv[1]),
      ['send'],
      'the child has a zfs send running on its pool',
    );
    const refused = await run('zpool', ['destroy', pool]);
    assert.notEqual(refused.exitCode, 0, 'the pool must be busy while the transfer runs');
    assert.match(refused.stderr, /busy/);
    child.kill('SIGTERM');
    const [code] = await child.exited;
    assert.equal(code, 128 + 15);
    await waitUntilGone(pool, String(child.report.dir));
  });

  test('SIGKILL leaves the pool; the next sweep removes it', async () => {
    const child = await startChild('wait');
    child.kill('SIGKILL');
    await child.exited;
    const name = String(child.report.pool);
    assert.equal(await poolExists(name), true);
    // Right after the kill the pool can still be busy (the sweeper then leaves it to the next
    // sweep): sweep again until it goes, within a bound.
    // Test files running beside this one sweep too (each at its first pool): theirs counts.
    const swept: string[] = [];
    for (let attempt = 0; attempt < 20 && !swept.includes(name) && (await poolExists(name)); attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      swept.push(...(await sweepStalePools()));
    }
    assert.ok(swept.includes(name) || !(await poolExists(name)), `still there after sweeps that removed ${swept.join(', ') || 'nothing'}`);
    await waitUntilGone(name, String(child.report.dir));
  });

  test('ZFS not answering is a clear error, not a skip', async () => {
    const zpoolPath = execFileSync('sh', ['-c', 'command -v zpool'], { encoding: 'utf8' }).trim();
    const wrapper = createZfsWrapper('no-daemon', zpoolPath);
    try {
      const child = await startChild('unavailable', { ...process.env, PATH: `${wrapper.dir}:${process.env.PATH ?? ''}` });
      await child.exited;
      assert.equal(child.report.available, false);
      assert.match(String(child.report.message), /^ZFS is not available: .*failed to initialize ZFS library.*run scripts\/start-zfs\.sh$/s);
    } finally {
      wrapper.cleanup();
    }
  });
});
