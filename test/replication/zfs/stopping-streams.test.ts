/**
 * How zfs streams are stopped, with stand-ins that behave like the zfs-fuse daemon behind a
 * client (it writes the stream in small blocks into a socket with a 4 MiB send buffer, and the
 * zfs-fuse client dies of SIGABRT, holds and all, when a write fails with a reset): a stopped
 * `zfs send` must see its reader gone (EPIPE, "Broken pipe"), never "Connection reset by
 * peer", whichever side stops it; a stopped same-host receive must see its stream end.
 * The real daemon's side of this (holds, exit codes) is in test/cmd/interrupt.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { startSend, type DirectSendProcess } from '../../../replication/zfs/send.js';
import { feedReceiveDirect } from '../../../replication/zfs/receive.js';

const logger = pino({ level: 'silent' });

/** Writes 4 KiB blocks (one socket buffer entry each) until a write fails, then says why. */
const SENDER = `
$SIG{PIPE} = 'IGNORE';
setsockopt(STDOUT, 1, 32, pack("i", 4194304)) or setsockopt(STDOUT, 1, 7, pack("i", 4194304));
my $block = "x" x 4096;
while (1) { defined(syswrite(STDOUT, $block)) or do { print STDERR "cannot send: $!\\n"; exit 1 } }
`;

/** Reads slowly until the end of the stream, or fails after FAIL_AFTER bytes (out of space). */
const receiver = (failAfter: number | undefined): string => `
my ($total, $buf) = (0, '');
while (1) {
  my $n = sysread(STDIN, $buf, 65536);
  defined $n or do { print STDERR "cannot receive: $!\\n"; exit 1 };
  if ($n == 0) { print STDERR "cannot receive: premature end of stream after $total bytes\\n"; exit 1 }
  $total += $n;
  ${failAfter === undefined ? '' : `if ($total >= ${failAfter}) { print STDERR "cannot receive: out of space\\n"; exit 1 }`}
  select(undef, undef, undef, 0.01);
}
`;

describe('stopping zfs streams', () => {
  let dir = '';
  const bins = { sender: '', slowReceiver: '', failingReceiver: '' };

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'zferry-stop-'));
    const script = (name: string, code: string): string => {
      const file = path.join(dir, name);
      writeFileSync(file, `#!/usr/bin/perl\n${code}`);
      chmodSync(file, 0o755);
      return file;
    };
    bins.sender = script('sender', SENDER);
    bins.slowReceiver = script('slow-receiver', receiver(undefined));
    bins.failingReceiver = script('failing-receiver', receiver(1024 * 1024));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Resolves once `pid` sleeps waiting for room in its socket's send buffer. */
  async function blockedOnFullSocket(pid: number | undefined): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (readFileSync(`/proc/${String(pid)}/wchan`, 'utf8') === 'sock_alloc_send_pskb') return;
      await sleep(25);
    }
    assert.fail('the sender never filled its socket');
  }

  test('piped through this process: an aborted send sees a closed pipe, not a reset', async () => {
    const send = startSend(bins.sender, ['send', 'pool/fs@s1'], logger, { output: 'pipe-read-now' });
    // Read a little, then leave the rest unread in the socket, as a stalled consumer would.
    send.stream.once('data', () => send.stream.pause());
    await blockedOnFullSocket(send.pid);
    send.abort(new Error('interrupted'));
    await assert.rejects(send.done, { code: 'ZFS_ABORTED' });
    assert.match(send.stderr, /cannot send: Broken pipe/);
  });

  /** A direct route from the stand-in sender into `receiverBin`; `send` settles once the send started. */
  function direct(receiverBin: string, signal?: AbortSignal): { outcome: ReturnType<typeof feedReceiveDirect>; send: Promise<DirectSendProcess> } {
    let started: (send: DirectSendProcess) => void = () => undefined;
    const send = new Promise<DirectSendProcess>((resolve) => (started = resolve));
    const source = {
      startInto: (sink: Writable) => {
        const process = startSend(bins.sender, ['send', 'pool/fs@s1'], logger, { output: sink });
        started(process);
        return process;
      },
    };
    return { outcome: feedReceiveDirect(receiverBin, ['receive', 'pool/copy'], source, logger, signal, { largeStream: true }), send };
  }

  test('same host: a receive that fails stops the send with a closed pipe, and its error is the one reported', async () => {
    const { outcome, send } = direct(bins.failingReceiver);
    const result = await outcome;
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /out of space/);
    assert.equal(result.inputError, undefined, 'the send only followed the receive');
    assert.match((await send).stderr, /cannot send: Broken pipe/);
  });

  test('same host: an abort ends both, the send with a closed pipe and the receive with an early end', async () => {
    const controller = new AbortController();
    const { outcome, send } = direct(bins.slowReceiver, controller.signal);
    const running = await send;
    await blockedOnFullSocket(running.pid);
    controller.abort(new Error('interrupted'));
    const result = await outcome;
    assert.equal(result.aborted, true);
    assert.equal(result.exitCode, 1, 'the receive ended by itself');
    assert.match(result.stderr, /premature end of stream/);
    assert.match(running.stderr, /cannot send: Broken pipe/);
  });
});
