// The daemon's stdinserver sockets: one per client identity in a private directory, stale ones
// replaced, live ones refused, and each connection handed on with the identity of its socket.
import assert from 'node:assert/strict';
import { chmod, chown, lstat, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { listenStdinserver, type StdinserverConnectionHandler } from '../../../daemon/serving/stdinserver-listener.js';
import { errorCode } from '../../../platform/errors.js';

const logger = pino({ level: 'silent' });
const base = await mkdtemp(path.join(os.tmpdir(), 'zferry-stdinserver-'));
after(() => rm(base, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => path.join(base, `d${++dirs}`, 'sockets');

/** Answers every connection with its identity, then ends it. */
const echoIdentity: StdinserverConnectionHandler = (connection, identity) => {
  connection.stream.on('error', () => {}); // a probe that hangs up at once resets the connection
  connection.stream.end(`${identity}\n`);
};

function listen(sockdir: string, identities: string[], onConnection: StdinserverConnectionHandler = echoIdentity) {
  return listenStdinserver({ sockdir, job: { name: 'backups' }, identities, onConnection, logger });
}

/** Connect to `socketPath` and read everything the server says. */
function readFrom(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path: socketPath });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.once('end', () => resolve(text));
    socket.once('error', reject);
  });
}

describe('the socket directory', () => {
  test('is created 0700 (with its parents) and the sockets in it are 0600', async () => {
    const dir = freshDir();
    const listener = await listen(dir, ['laptop']);
    try {
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      const socket = await lstat(path.join(dir, 'laptop'));
      assert.ok(socket.isSocket());
      assert.equal(socket.mode & 0o777, 0o600);
    } finally {
      await listener.close();
    }
  });

  for (const [mode, what] of [
    [0o770, 'group-writable'],
    [0o703, 'world-writable'],
  ] as const) {
    test(`one that is ${what} is refused, and no socket is made in it`, async () => {
      const dir = freshDir();
      await mkdir(dir, { recursive: true });
      await chmod(dir, mode);
      await assert.rejects(listen(dir, ['laptop']), (error: Error) => {
        assert.equal(errorCode(error), 'STDINSERVER_SOCKDIR_UNSAFE');
        assert.match(error.message, new RegExp(`${what}.*chmod 700`));
        return true;
      });
      await assert.rejects(lstat(path.join(dir, 'laptop')), { code: 'ENOENT' });
    });
  }

  test('one that belongs to another user is refused, even when it is 0700', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chown(dir, 65534, 65534);
    await assert.rejects(listen(dir, ['laptop']), (error: Error) => {
      assert.equal(errorCode(error), 'STDINSERVER_SOCKDIR_UNSAFE');
      assert.match(error.message, /belongs to uid 65534/);
      return true;
    });
  });

  test('a file in its place is refused', async () => {
    const dir = freshDir();
    await mkdir(path.dirname(dir), { recursive: true });
    await writeFile(dir, '');
    await assert.rejects(listen(dir, ['laptop']), (error: Error) => errorCode(error) !== undefined && /not a directory|EEXIST|ENOTDIR/.test(error.message));
  });

  test('an existing private directory is used as it is', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true, mode: 0o750 });
    await chmod(dir, 0o750);
    const listener = await listen(dir, ['laptop']);
    await listener.close();
    assert.equal((await stat(dir)).mode & 0o777, 0o750);
  });
});

describe('the sockets', () => {
  test('one per identity; each connection is handed on with the identity of its socket', async () => {
    const dir = freshDir();
    const seen: string[] = [];
    const listener = await listen(dir, ['laptop', 'db1', 'web-2'], (connection, identity) => {
      seen.push(identity);
      assert.equal(connection.peer.name, identity);
      echoIdentity(connection, identity);
    });
    try {
      assert.deepEqual(
        listener.paths,
        ['laptop', 'db1', 'web-2'].map((identity) => path.join(dir, identity)),
      );
      assert.equal(await readFrom(path.join(dir, 'db1')), 'db1\n');
      assert.equal(await readFrom(path.join(dir, 'laptop')), 'laptop\n');
      assert.equal(await readFrom(path.join(dir, 'web-2')), 'web-2\n');
      assert.deepEqual(seen, ['db1', 'laptop', 'web-2']);
    } finally {
      await listener.close();
    }
  });

  test('close() removes the socket files', async () => {
    const dir = freshDir();
    const listener = await listen(dir, ['laptop', 'db1']);
    await listener.close();
    for (const identity of ['laptop', 'db1']) await assert.rejects(lstat(path.join(dir, identity)), { code: 'ENOENT' });
  });

  test('a stale socket (nobody answers) is replaced', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const stalePath = path.join(dir, 'laptop');
    // A server killed before it could remove its socket file leaves one like this.
    const script = `require('node:net').createServer().listen(${JSON.stringify(stalePath)}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script]);
    assert.ok((await lstat(stalePath)).isSocket(), 'a stale socket file is left');
    const listener = await listen(dir, ['laptop']);
    try {
      assert.equal(await readFrom(stalePath), 'laptop\n');
    } finally {
      await listener.close();
    }
  });

  test('a live socket is refused and left alone; the sockets made before it are removed again', async () => {
    const dir = freshDir();
    const first = await listen(dir, ['db1']);
    try {
      await assert.rejects(listen(dir, ['laptop', 'db1']), (error: Error) => {
        assert.equal(errorCode(error), 'STDINSERVER_SOCKET_IN_USE');
        assert.match(error.message, /db1/);
        return true;
      });
      await assert.rejects(lstat(path.join(dir, 'laptop')), { code: 'ENOENT' });
      assert.equal(await readFrom(path.join(dir, 'db1')), 'db1\n', 'the first listener still serves');
    } finally {
      await first.close();
    }
  });

  for (const identity of ['../x', 'a/b', '-o', '', '..', 'sp ace']) {
    test(`identity ${JSON.stringify(identity)} is refused before anything is made`, async () => {
      const dir = freshDir();
      await assert.rejects(listen(dir, [identity]), (error: Error) => errorCode(error) === 'STDINSERVER_SOCKET_FAILED');
      await assert.rejects(stat(dir), { code: 'ENOENT' });
    });
  }
});
