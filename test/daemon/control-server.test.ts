/**
 * The control socket: the daemon's status and signals over zferry's RPC on a unix socket, the
 * socket's directory kept to the daemon's user, and one daemon per socket.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectControl } from '../../daemon/control-client.js';
import { startControlServer, type ControlServer } from '../../daemon/control-server.js';
import type { DaemonStatus } from '../../daemon/status-types.js';
import { startControlFixture } from '../helpers/control-fixture.js';
import { RecordingControl, sampleStatus } from '../fixtures/control-status.js';
import { LEVEL, memoryLogger } from '../helpers/zfs-logger.js';

describe('control socket', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-control-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  /** A fresh socket path in a directory of its own (created by the server). */
  let count = 0;
  const socketPath = (): string => path.join(dir, `run-${++count}`, 'control');

  async function withServer(control: RecordingControl, fn: (server: ControlServer, sockpath: string) => Promise<void>): Promise<void> {
    const sockpath = socketPath();
    const server = await startControlServer(control, sockpath, memoryLogger().logger);
    try {
      await fn(server, sockpath);
    } finally {
      await server.close();
    }
  }

  test('status: the daemon status round-trips unchanged; hello names the daemon', async () => {
    await withServer(new RecordingControl(), async (_server, sockpath) => {
      const client = await connectControl(sockpath);
      try {
        assert.deepEqual(await client.status(), sampleStatus());
        assert.deepEqual(await client.hello(), { version: '0.1.0', pid: 4242, startedAt: sampleStatus().startedAt, config: '/etc/zferry/zferry.yml' });
      } finally {
        await client.close();
      }
    });
  });

  test('status: members present but undefined are left out, not sent as nil', async () => {
    const status = sampleStatus();
    const [push] = status.jobs;
    assert.ok(push);
    // What a daemon building views with spreads may well produce.
    const loose = { ...status, jobs: [{ ...push, lastSkippedAt: undefined, current: { ...push.current!, endedAt: undefined } }] } as unknown as DaemonStatus;
    await withServer(new RecordingControl(loose), async (_server, sockpath) => {
      const client = await connectControl(sockpath);
      try {
        const received = await client.status();
        assert.equal('lastSkippedAt' in received.jobs[0]!, false);
        assert.equal(received.jobs[0]!.current!.startedAt, push.current!.startedAt);
      } finally {
        await client.close();
      }
    });
  });

  test('status: a status without the documented shape is refused with CONTROL_STATUS_INVALID, and logged', async () => {
    const status = sampleStatus();
    const broken = { ...status, jobs: [{ ...status.jobs[0]!, skippedTicks: -1 }] };
    const { logger, records } = memoryLogger();
    const sockpath = socketPath();
    const server = await startControlServer(new RecordingControl(broken), sockpath, logger);
    try {
      const client = await connectControl(sockpath);
      try {
        await assert.rejects(client.status(), (error: Error & { code?: string }) => {
          assert.equal(error.code, 'CONTROL_STATUS_INVALID');
          assert.match(error.message, /skippedTicks/);
          return true;
        });
      } finally {
        await client.close();
      }
    } finally {
      await server.close();
    }
    assert.ok(records.some((record) => record.level === LEVEL.error && /documented shape/.test(String(record.msg))));
  });

  test('signal: wakeup and reset reach the daemon', async () => {
    const control = new RecordingControl();
    await withServer(control, async (_server, sockpath) => {
      const client = await connectControl(sockpath);
      try {
        await client.signal('wakeup', 'home-to-backup');
        await client.signal('reset', 'hourly');
        await client.signal('reset', 'backup-sink');
      } finally {
        await client.close();
      }
    });
    assert.deepEqual(control.signals, [
      { action: 'wakeup', job: 'home-to-backup' },
      { action: 'reset', job: 'hourly' },
      { action: 'reset', job: 'backup-sink' },
    ]);
  });

  test('signal: an unknown job is refused with UNKNOWN_JOB naming the jobs; a sink cannot be woken', async () => {
    const control = new RecordingControl();
    await withServer(control, async (_server, sockpath) => {
      const client = await connectControl(sockpath);
      try {
        await assert.rejects(client.signal('wakeup', 'home-to-backpu'), {
          code: 'UNKNOWN_JOB',
          message: 'no job named "home-to-backpu"; the daemon\'s jobs: home-to-backup, backup-sink, hourly',
        });
        await assert.rejects(client.signal('wakeup', 'backup-sink'), { code: 'JOB_NOT_TRIGGERABLE', message: /backup-sink.*sink job/ });
        await assert.rejects(client.signal('wakeup', ''), { code: 'RPC_INVALID_REQUEST' });
      } finally {
        await client.close();
      }
    });
    assert.deepEqual(control.signals, []);
  });

  test('the socket directory is created 0700, the socket is 0600, and close removes the socket', async () => {
    const sockpath = path.join(dir, 'fresh', 'nested', 'control');
    const server = await startControlServer(new RecordingControl(), sockpath, memoryLogger().logger);
    try {
      assert.equal((await stat(path.dirname(sockpath))).mode & 0o777, 0o700);
      const socket = await stat(sockpath);
      assert.ok(socket.isSocket());
      assert.equal(socket.mode & 0o777, 0o600);
    } finally {
      await server.close();
    }
    await assert.rejects(stat(sockpath), { code: 'ENOENT' });
  });

  test('an existing directory others could write into, or owned by another user, is refused', async () => {
    const cases: { name: string; mode: number; owner?: number; message: RegExp }[] = [
      { name: 'world', mode: 0o777, message: /world-writable \(mode 0777\)/ },
      { name: 'world-sticky', mode: 0o1733, message: /world-writable/ },
      { name: 'group', mode: 0o770, message: /group-writable \(mode 0770\)/ },
      { name: 'foreign', mode: 0o700, owner: 65534, message: /belongs to uid 65534/ },
    ];
    for (const { name, mode, owner, message } of cases) {
      const socketDir = path.join(dir, `unsafe-${name}`);
      await mkdir(socketDir);
      await chmod(socketDir, mode);
      if (owner !== undefined) await chown(socketDir, owner, owner);
      const sockpath = path.join(socketDir, 'control');
      await assert.rejects(startControlServer(new RecordingControl(), sockpath, memoryLogger().logger), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'CONTROL_SOCKET_UNSAFE', name);
        assert.match(error.message, message);
        assert.ok(error.message.includes(socketDir));
        return true;
      });
      await assert.rejects(stat(sockpath), { code: 'ENOENT' }, `${name}: no socket was made`);
    }
    // The same directory made safe is accepted.
    const socketDir = path.join(dir, 'unsafe-group');
    await chmod(socketDir, 0o755);
    const server = await startControlServer(new RecordingControl(), path.join(socketDir, 'control'), memoryLogger().logger);
    await server.close();
  });

  test('the socket of a daemon that died is replaced', async () => {
    const sockpath = socketPath();
    const crashed = await startControlFixture(sockpath);
    await crashed.stop('SIGKILL');
    assert.ok((await stat(sockpath)).isSocket(), 'the dead daemon left its socket behind');
    const { logger, records } = memoryLogger('info');
    const server = await startControlServer(new RecordingControl(), sockpath, logger);
    try {
      const client = await connectControl(sockpath);
      assert.equal((await client.status()).pid, 4242);
      await client.close();
    } finally {
      await server.close();
    }
    assert.ok(records.some((record) => /replacing the control socket/.test(String(record.msg))));
  });

  test('a second daemon on a live socket is refused, naming the pid; the first keeps serving', async () => {
    const sockpath = socketPath();
    const first = await startControlFixture(sockpath);
    try {
      await assert.rejects(startControlServer(new RecordingControl(), sockpath, memoryLogger().logger), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'CONTROL_SOCKET_IN_USE');
        assert.match(error.message, new RegExp(`^another zferry daemon \\(pid ${first.pid}, config /etc/zferry/zferry\\.yml\\) serves ${sockpath}`));
        return true;
      });
      const client = await connectControl(sockpath);
      assert.equal((await client.hello()).pid, first.pid);
      await client.close();
    } finally {
      assert.equal(await first.stop('SIGTERM'), 0);
    }
  });

  test('something that is not a zferry daemon on the socket is refused and left alone', async () => {
    const sockpath = socketPath();
    await mkdir(path.dirname(sockpath), { mode: 0o700 });
    const other = net.createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => other.listen(sockpath, resolve));
    try {
      await assert.rejects(startControlServer(new RecordingControl(), sockpath, memoryLogger().logger), {
        code: 'CONTROL_SOCKET_IN_USE',
        message: new RegExp(`^something that is not a zferry daemon listens on ${sockpath}`),
      });
      assert.ok((await stat(sockpath)).isSocket());
    } finally {
      other.close();
    }
  });

  test('no daemon: the client says so, with the socket path', async () => {
    const missing = path.join(dir, 'nobody', 'control');
    await assert.rejects(connectControl(missing), { code: 'NO_DAEMON', message: `no zferry daemon is running (nothing listens on ${missing})` });
    // A socket file left by a daemon that died: nobody answers either.
    const sockpath = socketPath();
    const crashed = await startControlFixture(sockpath);
    await crashed.stop('SIGKILL');
    await assert.rejects(connectControl(sockpath), { code: 'NO_DAEMON', message: `no zferry daemon is running (nothing listens on ${sockpath})` });
  });

  test('close ends the connections of clients that stay connected', async () => {
    const sockpath = socketPath();
    const server = await startControlServer(new RecordingControl(), sockpath, memoryLogger().logger);
    const client = await connectControl(sockpath);
    await client.status();
    await server.close();
    await client.closed;
    await assert.rejects(client.status());
  });
});
