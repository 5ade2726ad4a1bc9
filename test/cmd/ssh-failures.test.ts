// Over ssh: transfers killed mid-stream, then re-run; remotes that lie; ssh that cannot connect.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { runZferry, serveCommand, sshArgs, sshLocation, zferryArgv } from '../helpers/cli.js';
import { expectExit } from '../helpers/replication-modes.js';
import { nodeCommand, useSshd } from '../helpers/sshd.js';
import { createDataset, datasetExists, listAll, listSnapshots, snapshot, usePool, writeFile } from '../helpers/zfs-pool.js';
import { execa } from 'execa';

const server = useSshd();

const guids = async (fs: string): Promise<string[]> => (await listSnapshots(fs)).map((s) => s.guid);

/** pids of processes whose command line contains every needle (and starts with `program`, if given). */
function pids(...needles: string[]): number[] {
  return processes((args) => needles.every((needle) => args.includes(needle)));
}

function processes(match: (args: string) => boolean): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && match(m[2] ?? ''))
    .map((m) => Number(m[1]))
    .filter((pid) => pid !== process.pid);
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('killed mid-stream, then re-run', () => {
  const src = usePool({ sizeMiB: 1536 });
  const dst = usePool({ sizeMiB: 1536 });
  let counter = 0;

  for (const direction of ['push', 'pull'] as const) {
    for (const victim of ['ssh', 'remote zferry'] as const) {
      test(`${direction} with ${victim} killed mid-stream leaves no partial snapshot; a re-run succeeds`, async () => {
        counter += 1;
        const source = src.pool.dataset(`big${counter}`);
        const target = dst.pool.dataset(`copy${counter}`);
        await createDataset(source);
        await writeFile(source, 'big.bin', 200 * 1024 * 1024);
        await snapshot(`${source}@big`);
        // A marker in the remote command line tells this test's processes apart from others.
        const marker = `--root=${(direction === 'push' ? dst : src).pool.name}`;
        const args = (remote: string): string[] =>
          direction === 'push'
            ? ['push', ...sshArgs(server(), remote), source, sshLocation(server(), target)]
            : ['pull', ...sshArgs(server(), remote), sshLocation(server(), source), target];
        const child = execa(process.execPath, zferryArgv(args(serveCommand([marker]))), { reject: false, env: { ZFERRY_LOG_LEVEL: 'warn' } });
        await waitFor('zfs receive to start', () => pids('receive', target).length > 0);
        await new Promise((resolve) => setTimeout(resolve, 150));
        const victims =
          victim === 'ssh'
            ? processes((line) => /^(\S*\/)?ssh /.test(line) && line.includes(`${server().port}`) && line.includes(marker))
            : processes((line) => line.includes(' serve ') && line.includes(marker) && !/^(\S*\/)?(ssh|bash|sh) /.test(line) && !/ (push|pull) /.test(line));
        assert.ok(victims.length > 0, `found the ${victim} process`);
        for (const pid of victims) process.kill(pid, 'SIGKILL');
        const result = await child;
        assert.equal(result.exitCode, 1, `the killed run fails:\n${String(result.stderr)}`);
        await waitFor('zfs receive to go away', () => pids('receive', target).length === 0);
        // Never a partial or wrong snapshot: either nothing, or exactly the source's snapshot.
        if (await datasetExists(target)) {
          const landed = await guids(target);
          assert.ok(landed.length === 0 || landed.join() === (await guids(source)).join(), `unexpected snapshots ${landed.join()}`);
        }
        expectExit(await runZferry(args(serveCommand())), 0, 're-run');
        assert.deepEqual(await guids(target), await guids(source));
      });
    }
  }
});

describe('remotes that lie are refused', () => {
  const dst = usePool({ sizeMiB: 128 });
  const hostile = fileURLToPath(new URL(`../fixtures/hostile-endpoint.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
  /** What a refusal may have asked the lying source: only listings, never a transfer. */
  const READS = ['poolIdentity', 'listVersionTree', 'listVersions'];

  for (const [mode, code, detail] of [
    ['outside-root', 'OUTSIDE_ROOT', /the source listed victim\/secret, which is not tank\/data nor below it/],
    ['dash-name', 'RPC_INVALID_RESPONSE', /filesystems\[1\]\.name: not a valid filesystem name/],
    ['foreign-versions', 'UNTRUSTED_ANSWER', /answered victim\/secret@s1 when asked for versions of tank\/data/],
  ] as const) {
    test(`pull from a remote answering ${mode}`, async (t) => {
      const target = dst.pool.dataset(`from-${mode}`);
      const before = await listAll(dst.pool.name);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'zferry-hostile-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const callLog = path.join(dir, 'calls');
      writeFileSync(callLog, '');
      const result = await runZferry(['pull', ...sshArgs(server(), nodeCommand(hostile, [mode, callLog])), sshLocation(server(), 'tank/data'), target]);
      assert.equal(result.exitCode, 1, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stderr, new RegExp(`\\[${code}\\]`));
      assert.match(result.stderr, detail);
      const calls = readFileSync(callLog, 'utf8').split('\n').filter(Boolean);
      assert.ok(calls.includes('listVersionTree'), `the lying remote was listed; it was asked: ${calls.join(', ')}`);
      assert.deepEqual(
        calls.filter((call) => !READS.includes(call)),
        [],
        `refused before any transfer; the remote was asked: ${calls.join(', ')}`,
      );
      assert.deepEqual(await listAll(dst.pool.name), before, 'nothing was created or changed');
    });
  }
});

describe('ssh that cannot connect', () => {
  const pool = usePool({ sizeMiB: 64 });

  test('push --snapshot to an unreachable host takes no snapshot', async () => {
    const source = await createDataset(pool.pool.dataset('unreachable'));
    await snapshot(`${source}@s1`);
    const before = await listAll(source);
    // The connection is made while the job starts; its failure must come before the snapshot.
    const result = await runZferry(['push', '--snapshot', ...sshArgs(server()), source, 'ssh://root@127.0.0.1:1/pool/data']);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /refused|connect/i);
    assert.deepEqual(await listAll(source), before);
  });

  test('a closed port is a clear error, exit 1', async () => {
    const result = await runZferry(['push', ...sshArgs(server()), 'tank/data', 'ssh://root@127.0.0.1:1/pool/data']);
    assert.equal(result.exitCode, 1, result.stderr);
    // What zferry tried, and ssh's own reason.
    assert.match(result.stderr, /ssh could not connect to root@127\.0\.0\.1 port 1 /);
    assert.match(result.stderr, /ssh: connect to host 127\.0\.0\.1 port 1: Connection refused/);
  });
  test('a hostile host name is a usage error before ssh runs', async () => {
    const result = await runZferry(['push', 'tank/data', 'ssh://-oProxyCommand=touch/pool/data']);
    assert.equal(result.exitCode, 2, result.stderr);
  });
});

describe('a remote that refuses', () => {
  const pool = usePool({ sizeMiB: 64 });

  test('pull from outside the remote --root names the remote refusal, not only that the remote failed', async () => {
    const allowed = await createDataset(pool.pool.dataset('allowed'));
    const outside = await createDataset(pool.pool.dataset('outside'));
    await snapshot(`${outside}@s1`);
    const target = pool.pool.dataset('copy');
    const remote = serveCommand(['--root', allowed]);
    const result = await runZferry(['pull', ...sshArgs(server(), remote), sshLocation(server(), outside), target]);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /\[ENDPOINT_OUTSIDE_ROOT\] .*outside the datasets this endpoint serves/);
    assert.equal(await datasetExists(target), false);
  });
});
