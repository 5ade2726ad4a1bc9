// `zferry stdinserver ID` as the forced command of a real sshd's authorized_keys, carrying
// `zferry push` sessions to a stdinserver listener that serves the real endpoint, confined to
// root_fs/<identity>; and the session carrier on its own: bytes, half-closes, signals, no daemon.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import pino from 'pino';
import { DEFAULT_CONFIG_FILE, DEFAULT_STDINSERVER_SOCKDIR } from '../../config/types.js';
import { listenStdinserver, type StdinserverConnectionHandler } from '../../daemon/serving/stdinserver-listener.js';
import { runZferry, sshLocation, ZFERRY_SCRIPT, zferryArgv } from '../helpers/cli.js';
import { expectExit } from '../helpers/replication-modes.js';
import { nodeCommand, useSshd, type SshKeyPair } from '../helpers/sshd.js';
import { startStdinserverSink, type StdinserverSink } from '../helpers/stdinserver-sink.js';
import { createDataset, datasetExists, listAll, listSnapshots, snapshot, usePool, writeFile } from '../helpers/zfs-pool.js';

const server = useSshd();
const base = await mkdtemp(path.join(os.tmpdir(), 'zferry-stdinserver-cmd-'));
after(() => rm(base, { recursive: true, force: true }));
const logger = pino({ level: 'silent' });

const guids = async (fs: string): Promise<string[]> => (await listSnapshots(fs)).map((s) => s.guid);
const NO_DAEMON_LINE = /^zferry: \[NO_DAEMON\] no zferry daemon serves stdinserver identity laptop \(nothing listens on \S+\/laptop\)$/;

/** A key whose authorized_keys line forces `zferry stdinserver ID --sockdir DIR`. */
async function stdinserverKey(identity: string, sockdir: string): Promise<SshKeyPair> {
  const key = await server().newClientKey(identity);
  await server().authorize({ key, command: nodeCommand(ZFERRY_SCRIPT, ['stdinserver', identity, '--sockdir', sockdir]) });
  return key;
}

/** `zferry push` options that reach the throwaway sshd with `key` (the remote command is whatever the key forces). */
function pushArgs(key: SshKeyPair, extra: string[] = []): string[] {
  const connect = server().connectOptions(key);
  return ['push', '--ssh-key', connect.identityFile, ...connect.options.flatMap((option) => ['--ssh-option', option]), ...extra];
}

describe('push over ssh to zferry stdinserver', () => {
  const src = usePool();
  const dst = usePool();
  const sockdir = path.join(base, 'sockets');
  let sink: StdinserverSink;
  let laptopKey: SshKeyPair;
  let db1Key: SshKeyPair;
  let rootFs: string;

  before(async () => {
    rootFs = dst.pool.dataset('sink');
    await createDataset(rootFs, { properties: { mountpoint: 'none' } });
    await createDataset(`${rootFs}/laptop`);
    await createDataset(`${rootFs}/db1`);
    sink = await startStdinserverSink({ sockdir, rootFs, identities: ['laptop', 'db1'], logger });
    laptopKey = await stdinserverKey('laptop', sockdir);
    db1Key = await stdinserverKey('db1', sockdir);
  });
  after(() => sink?.close());

  test('lands below root_fs/laptop, initial and incremental, verified by guid', async () => {
    const source = src.pool.dataset('home');
    await createDataset(source);
    await writeFile(source, 'a.bin', 4 * 1024 * 1024);
    await snapshot(`${source}@one`);
    const target = `${rootFs}/laptop/home`;
    const before = sink.accepted.length;
    expectExit(await runZferry([...pushArgs(laptopKey), source, sshLocation(server(), target)]), 0, 'initial push');
    assert.deepEqual(await guids(target), await guids(source));
    await writeFile(source, 'b.bin', 2 * 1024 * 1024);
    await snapshot(`${source}@two`);
    expectExit(await runZferry([...pushArgs(laptopKey), source, sshLocation(server(), target)]), 0, 'incremental push');
    assert.deepEqual(await guids(target), await guids(source));
    assert.equal((await guids(target)).length, 2);
    assert.deepEqual(sink.accepted.slice(before), ['laptop', 'laptop'], 'each session reached the daemon through the laptop socket');
  });

  test("a second identity's socket cannot be reached as the first", async () => {
    const source = src.pool.dataset('db');
    await createDataset(source);
    await writeFile(source, 'db.bin', 1024 * 1024);
    await snapshot(`${source}@one`);
    const theirs = `${rootFs}/db1/db`;
    const before = sink.accepted.length;
    const listingBefore = await listAll(`${rootFs}/db1`);
    // The laptop key asks for db1's session (and its socket): the forced command decides, not the client.
    const remoteCmd = `zferry stdinserver db1 --sockdir ${sockdir}`;
    const refused = await runZferry([...pushArgs(laptopKey, ['--remote-cmd', remoteCmd]), source, sshLocation(server(), theirs)]);
    assert.equal(refused.exitCode, 1, `refused:\n${refused.stderr}`);
    assert.match(refused.stderr, new RegExp(`${rootFs}/laptop`), 'the refusal names the root the session is confined to');
    assert.deepEqual(await listAll(`${rootFs}/db1`), listingBefore, "nothing changed below db1's root");
    assert.equal(await datasetExists(theirs), false);
    assert.deepEqual(sink.accepted.slice(before), ['laptop'], 'the session came in on the laptop socket');
    // db1's own key reaches db1's root.
    expectExit(await runZferry([...pushArgs(db1Key), source, sshLocation(server(), theirs)]), 0, 'push as db1');
    assert.deepEqual(await guids(theirs), await guids(source));
    assert.deepEqual(sink.accepted.slice(before), ['laptop', 'db1']);
  });
});

describe('no daemon listening', () => {
  const emptySockdir = path.join(base, 'nobody-listens');
  let key: SshKeyPair;
  before(async () => {
    key = await stdinserverKey('laptop', emptySockdir);
  });

  test('one clear line on stderr, nothing on stdout, exit 1', async () => {
    const result = await execa(process.execPath, zferryArgv(['stdinserver', 'laptop', '--sockdir', emptySockdir]), { reject: false, input: 'hello' });
    assert.equal(result.exitCode, 1);
    assert.equal(result.stdout, '');
    const lines = String(result.stderr)
      .split('\n')
      .filter((line) => line !== '');
    assert.equal(lines.length, 1, String(result.stderr));
    assert.match(lines[0] ?? '', NO_DAEMON_LINE);
  });

  test(
    'no --config and no config file at the default place: the default sockdir, the same one line, exit 1',
    {
      skip: existsSync(DEFAULT_CONFIG_FILE) || existsSync(path.join(DEFAULT_STDINSERVER_SOCKDIR, 'laptop')) ? 'this host has a zferry config or daemon' : false,
    },
    async () => {
      const result = await execa(process.execPath, zferryArgv(['stdinserver', 'laptop']), { reject: false, input: 'hello' });
      assert.equal(result.exitCode, 1);
      assert.equal(result.stdout, '');
      assert.equal(
        String(result.stderr).trim(),
        `zferry: [NO_DAEMON] no zferry daemon serves stdinserver identity laptop (nothing listens on ${DEFAULT_STDINSERVER_SOCKDIR}/laptop)`,
      );
    },
  );

  test('an explicit --config that cannot be read is a configuration error (exit 2)', async () => {
    const result = await runZferry(['stdinserver', 'laptop', '--config', path.join(base, 'missing.yml')]);
    assert.equal(result.exitCode, 2, result.stderr);
    assert.match(result.stderr, /missing\.yml: cannot read the configuration file/);
  });

  for (const [args, why] of [
    [['stdinserver', '../laptop', '--sockdir', '/nonexistent'], /client identity "..\/laptop" contains "\/"/],
    [['stdinserver', '-x', '--sockdir', '/nonexistent'], /unknown option/],
    [['stdinserver', 'laptop', '--sockdir', '/nonexistent', '--config', '/nonexistent.yml'], /--config or --sockdir, not both/],
  ] as const) {
    test(`usage error, exit 2: ${args.slice(1).join(' ')}`, async () => {
      const result = await runZferry(args);
      assert.equal(result.exitCode, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, why);
    });
  }

  test('through ssh, the pushing side shows the line and fails', async () => {
    const result = await runZferry([...pushArgs(key), 'nopool/fs', sshLocation(server(), 'pool/x')]);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /\[NO_DAEMON\] no zferry daemon serves stdinserver identity laptop \(nothing listens on /);
  });
});

describe('the session carrier', { timeout: 60_000 }, () => {
  const sockdir = path.join(base, 'carrier');

  async function withListener(onConnection: StdinserverConnectionHandler, body: () => Promise<void>): Promise<void> {
    const listener = await listenStdinserver({ sockdir, job: { name: 'test' }, identities: ['laptop'], onConnection, logger });
    try {
      await body();
    } finally {
      await listener.close();
    }
  }

  test('carries bytes both ways unchanged; stdin EOF half-closes towards the daemon, whose end ends stdout; exit 0', async () => {
    const input = randomBytes(8 * 1024 * 1024 + 17);
    await withListener(
      (connection) => connection.stream.pipe(connection.stream), // echo, and end once the client's side has ended
      async () => {
        const result = await execa(process.execPath, zferryArgv(['stdinserver', 'laptop', '--sockdir', sockdir]), {
          reject: false,
          input,
          encoding: 'buffer',
        });
        assert.equal(result.exitCode, 0, Buffer.from(result.stderr).toString());
        assert.equal(Buffer.from(result.stderr).length, 0);
        assert.ok(Buffer.from(result.stdout).equals(input), 'stdout is exactly what the daemon sent');
      },
    );
  });

  test('ends when the daemon ends, although stdin stays open (as ssh keeps it)', async () => {
    await withListener(
      (connection) => connection.stream.end('bye\n'),
      async () => {
        const child = execa(process.execPath, zferryArgv(['stdinserver', 'laptop', '--sockdir', sockdir]), { reject: false, stdin: 'pipe' });
        const result = await child; // stdin is never closed
        assert.equal(result.exitCode, 0, String(result.stderr));
        assert.equal(result.stdout, 'bye');
      },
    );
  });

  test('SIGTERM ends it, and the daemon sees the connection close', async () => {
    let closed!: () => void;
    const daemonSawClose = new Promise<void>((resolve) => (closed = resolve));
    let connected!: () => void;
    const daemonSawConnection = new Promise<void>((resolve) => (connected = resolve));
    await withListener(
      (connection) => {
        connection.stream.on('error', () => {});
        connection.stream.once('close', closed);
        connected();
      },
      async () => {
        const child = execa(process.execPath, zferryArgv(['stdinserver', 'laptop', '--sockdir', sockdir]), { reject: false, stdin: 'pipe' });
        await daemonSawConnection;
        child.kill('SIGTERM');
        const result = await child;
        assert.ok(result.signal === 'SIGTERM' || result.exitCode === 143, `ended by SIGTERM: ${result.exitCode} ${result.signal}`);
        assert.equal(result.stdout, '');
        await daemonSawClose;
      },
    );
  });

  test('the ssh side dying (stdin and stdout closed) ends it, and the daemon sees its end', async () => {
    let ended!: () => void;
    const daemonSawEnd = new Promise<void>((resolve) => (ended = resolve));
    await withListener(
      (connection) => {
        connection.stream.on('error', () => {});
        connection.stream.resume();
        connection.stream.write('hello\n');
        connection.stream.once('end', () => {
          ended();
          connection.close();
        });
      },
      async () => {
        const child = execa(process.execPath, zferryArgv(['stdinserver', 'laptop', '--sockdir', sockdir]), { reject: false, stdin: 'pipe', buffer: false });
        await new Promise((resolve) => child.stdout.once('data', resolve));
        child.stdout.destroy();
        child.stdin.destroy();
        await daemonSawEnd;
        const result = await child;
        assert.notEqual(result.exitCode, undefined, 'it exited');
      },
    );
  });
});
