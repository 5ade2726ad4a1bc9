/** Pipe buffers: a pipe handed to us grows to 1 MiB through the perl helper; anything else is left alone. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync } from 'node:child_process';
import { DEFAULT_PIPE_BYTES, DEFAULT_SOCKET_SEND_BYTES, enlargePipe, enlargeSocketSendBuffer } from '../../platform/kernel-buffers.js';

const modulePath = fileURLToPath(new URL('../../platform/kernel-buffers.js', import.meta.url));
const stdioModulePath = fileURLToPath(new URL('../../transport/stdio.js', import.meta.url));

/** Runs `enlargePipe(0)` in a node whose stdin is a shell pipe; prints its result and the pipe's size after (F_GETPIPE_SZ). */
async function inPipe(perl: string): Promise<{ granted: string; size: number }> {
  const script = `const { enlargePipe } = await import(process.argv[1]); process.stdout.write(String(await enlargePipe(0, undefined, process.argv[2])));`;
  const command = `true | { ${process.execPath} --input-type=module -e "$0" "$1" "$2"; echo; perl -e 'print fcntl(STDIN, 1032, 0)'; }`;
  const { stdout } = await execa('sh', ['-c', command, script, modulePath, perl]);
  const [granted = '', size = ''] = stdout.split('\n');
  return { granted, size: Number(size) };
}

describe('pipe size', () => {
  test('a pipe on our stdin grows to 1 MiB', async () => {
    const { granted, size } = await inPipe('perl');
    assert.equal(granted, 'true');
    assert.equal(size, DEFAULT_PIPE_BYTES);
  });

  test('without the helper nothing changes, and nothing throws', async () => {
    const { granted, size } = await inPipe(path.join(os.tmpdir(), 'no-such-perl'));
    assert.equal(granted, 'false');
    assert.equal(size, 64 * 1024, 'the default pipe size');
  });

  test('the stdio transport (serve --stdio behind sshd) enlarges its stdin and stdout pipes', async () => {
    // The child reports the two sizes on stderr: stdout carries frames once the transport exists.
    const script = [
      `const { spawnSync } = await import('node:child_process');`,
      `const { stdioConnection } = await import(process.argv[1]);`,
      `stdioConnection();`,
      `await new Promise((resolve) => setTimeout(resolve, 500));`,
      `const size = (code, stdio) => spawnSync('perl', ['-e', code], { stdio }).stderr.toString();`,
      `const input = size('print STDERR fcntl(STDIN, 1032, 0)', [0, 'ignore', 'pipe']);`,
      `const output = size('print STDERR fcntl(STDOUT, 1032, 0)', ['ignore', 1, 'pipe']);`,
      `process.stderr.write(input + ' ' + output);`,
      `process.exit(0);`,
    ].join('\n');
    const command = `sleep 2 | ${process.execPath} --input-type=module -e "$0" "$1" | cat >/dev/null`;
    const { stderr } = await execa('sh', ['-c', command, script, stdioModulePath]);
    assert.equal(stderr.trim(), `${DEFAULT_PIPE_BYTES} ${DEFAULT_PIPE_BYTES}`);
  });

  test('a descriptor that is neither is left alone', async () => {
    const fd = openSync(os.devNull, 'r');
    try {
      assert.equal(await enlargePipe(fd), false);
      assert.equal(await enlargeSocketSendBuffer(fd), false);
    } finally {
      closeSync(fd);
    }
  });

  test('the send buffer of a socket pair (node\'s stdio "pipe" to a child) grows', async () => {
    const child = spawn('sleep', ['5'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      const fd = (child.stdin as unknown as { _handle: { fd: number } })._handle.fd;
      const read = (): number =>
        Number(spawnSync('perl', ['-e', 'print STDERR unpack("i", getsockopt(STDIN, 1, 7))'], { stdio: [fd, 'ignore', 'pipe'] }).stderr.toString());
      const before = read();
      assert.equal(await enlargeSocketSendBuffer(fd), true);
      const after = read();
      assert.ok(after >= DEFAULT_SOCKET_SEND_BYTES && after > before, `send buffer ${before} -> ${after}`);
      assert.equal(await enlargePipe(fd), false, 'a socket is not a pipe');
    } finally {
      child.kill();
    }
  });
});
