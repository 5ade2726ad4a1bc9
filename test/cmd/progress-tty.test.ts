/**
 * `zferry push` on a terminal (a real pty through `script`): the progress line shows the
 * stream's size and time left; without a terminal nothing of it reaches stderr.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { ZFERRY_SCRIPT, runZferry } from '../helpers/cli.js';
import { nodeCommand } from '../helpers/sshd.js';
import { createDataset, snapshot, usePool, writeFile } from '../helpers/zfs-pool.js';

/** The terminal escape character (ESC) a progress line starts its codes with. */
const ESCAPE = String.fromCharCode(0x1b);

describe('progress on a terminal', () => {
  const ctx = usePool({ sizeMiB: 256 });

  test('a full send shows bytes, rate, the estimated size and time left', async () => {
    const src = await createDataset(ctx.pool.dataset('tty-src'));
    await writeFile(src, 'data.bin', 48 * 1024 * 1024);
    await snapshot(`${src}@s1`);
    // A wide terminal, so the line is not cut at the default 80 columns.
    const command = `stty cols 250; ${nodeCommand(ZFERRY_SCRIPT, ['push', src, ctx.pool.dataset('tty-dst')])}`;
    // script gives the command a pty on stdin/stdout/stderr; -e: its exit code, -q: no banner.
    const run = await execa('script', ['-qefc', command, '/dev/null'], { reject: false, timeout: 120_000, env: { ZFERRY_LOG_LEVEL: 'warn' } });
    const output = String(run.stdout);
    assert.equal(run.exitCode, 0, output);
    // zfs-fuse has no `send -n -P`: the full stream's size comes from the snapshot (`~`).
    assert.match(output, new RegExp(`${src} 1/1: [0-9.]+ (B|KiB|MiB) of ~?4[0-9]\\.[0-9] MiB \\(~?[0-9]+%\\) @ [0-9.]+ (B|KiB|MiB|GiB)/s`), output);
    assert.match(output, /replicated \(1 step/, 'the summary follows');
  });

  test('without a terminal: no progress line', async () => {
    const src = await createDataset(ctx.pool.dataset('notty-src'));
    await writeFile(src, 'data.bin', 1024 * 1024);
    await snapshot(`${src}@s1`);
    const result = await runZferry(['push', src, ctx.pool.dataset('notty-dst')]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.doesNotMatch(result.stderr, new RegExp(`\r|${ESCAPE}\\[K| of ~?[0-9]`));
  });
});
