/**
 * End to end over ssh to `zferry stdinserver`, every part a real process: a backup daemon serves
 * a sink (identities laptop and desk) and another a source (identity backup) with
 * `serve: {type: stdinserver}`, each on its own sockdir; a real sshd's authorized_keys forces
 * `zferry stdinserver ID --config <that daemon's config>` for each client key; the clients run
 * `zferry run` with `connect: {type: ssh+stdinserver}` (zrepl's form). A push lands below
 * root_fs/laptop, a pull gets exactly the source's filter, both verified by guid; the sink's
 * status, metrics and log see the sessions; the laptop key cannot act as desk; and with the sink
 * daemon stopped the push fails with the forced command's NO_DAEMON line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import type { ServedConnectionView } from '../../../daemon/status-types.js';
import { runZferry, ZFERRY_SCRIPT, type CliResult } from '../../helpers/cli.js';
import { daemonDir, daemonReady, sshConnectYaml, startDaemon, type DaemonDir, type RunningDaemon } from '../../helpers/daemon-process.js';
import { freePort } from '../../helpers/free-port.js';
import { httpGet, samplesOf } from '../../helpers/prometheus-text.js';
import { expectExit } from '../../helpers/replication-modes.js';
import { nodeCommand, useSshd, type Sshd, type SshKeyPair } from '../../helpers/sshd.js';
import { createDataset, datasetExists, listAll, listSnapshots, snapshot, usePool, writeFile } from '../../helpers/zfs-pool.js';
import { setTimeout as sleep } from 'node:timers/promises';

async function guids(filesystem: string): Promise<Record<string, string>> {
  return Object.fromEntries((await listSnapshots(filesystem)).map((s) => [s.name, s.guid]));
}

/** A key whose authorized_keys line is `command="<zferry> stdinserver ID --config FILE",restrict …`. */
async function stdinserverKey(sshd: Sshd, identity: string, configFile: string): Promise<SshKeyPair> {
  const key = await sshd.newClientKey(identity);
  await sshd.authorize({ key, command: nodeCommand(ZFERRY_SCRIPT, ['stdinserver', identity, '--config', configFile]) });
  return key;
}

/** The connect block of a client job, zrepl's `ssh+stdinserver` spelling. */
function stdinserverConnectYaml(sshd: Sshd, key: SshKeyPair, indent: string, extra: string[] = []): string {
  return [sshConnectYaml(sshd, key, indent).replace('type: ssh', 'type: ssh+stdinserver'), ...extra.map((line) => `${indent}  ${line}`)].join('\n');
}

/** The global section of a serving daemon: its stdinserver sockdir inside its temp dir, and optional lines after. */
async function writeServerConfig(dir: DaemonDir, globalExtra: string[], jobs: string[]): Promise<string> {
  const sockdir = `${dir.dir}/stdinserver`;
  await dir.writeConfig(['  serve:', '    stdinserver:', `      sockdir: ${sockdir}`, ...globalExtra, 'jobs:', ...jobs, ''].join('\n'));
  return sockdir;
}

/** The sink's `status` connections once `check` passes (they change with sessions, not on a clock). */
async function connectionsOnce(daemon: RunningDaemon, check: (connections: ServedConnectionView[]) => boolean, what: string): Promise<ServedConnectionView[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const connections = (await daemon.status()).connections ?? [];
    if (check(connections)) return connections;
    if (Date.now() > deadline) throw new Error(`not ${what} within 30 s: ${JSON.stringify(connections)}`);
    await sleep(100);
  }
}

const run = (dir: DaemonDir, job: string): Promise<CliResult> => runZferry(['run', job, '--config', dir.configFile]);

describe('push over ssh+stdinserver to a sink daemon', () => {
  const sshd = useSshd();
  const src = usePool();
  const dst = usePool();
  let sinkDir: DaemonDir;
  let clientDir: DaemonDir;
  let sink: RunningDaemon | undefined;
  let laptopKey: SshKeyPair;
  let data = '';
  let sinkRoot = '';
  let metricsPort = 0;

  before(async () => {
    sinkDir = await daemonDir();
    clientDir = await daemonDir();
    data = await createDataset(src.pool.dataset('data'));
    await createDataset(`${data}/a`);
    await writeFile(`${data}/a`, 'blob', 512 * 1024);
    await snapshot(`${data}@s1`, { recursive: true });
    sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    metricsPort = await freePort();
    await writeServerConfig(
      sinkDir,
      ['  monitoring:', '    - type: prometheus', `      listen: "127.0.0.1:${metricsPort}"`],
      ['  - name: backups', '    type: sink', `    root_fs: ${sinkRoot}`, '    serve: {type: stdinserver, client_identities: [laptop, desk]}'],
    );
    laptopKey = await stdinserverKey(sshd(), 'laptop', sinkDir.configFile);
    const push = (name: string, extra: string[] = [], connectExtra: string[] = []): string[] => [
      `  - name: ${name}`,
      '    type: push',
      stdinserverConnectYaml(sshd(), laptopKey, '    ', connectExtra),
      `    filesystems: {"${data}<": true}`,
      '    interval: 1h',
      '    conflict_resolution: {initial_replication: all}',
      ...extra,
    ];
    await clientDir.writeConfig(
      [
        'jobs:',
        // No root_fs: the sink's session says where it lands (root_fs/laptop).
        ...push('to-backup'),
        // The laptop key, asking to land below desk's root, through desk's socket: the forced command decides.
        ...push('as-desk', [`    root_fs: ${sinkRoot}/desk`], [`remote_command: [zferry, stdinserver, desk, --config, ${sinkDir.configFile}]`]),
        '',
      ].join('\n'),
    );
    sink = startDaemon(sinkDir);
    await daemonReady(sink);
  });

  after(async () => {
    if (sink && !sink.process.exited) await sink.stop();
    await sinkDir?.remove();
    await clientDir?.remove();
  });

  test('lands below root_fs/laptop, then incrementally, with the sender guids; the sink logs each session', async () => {
    expectExit(await run(clientDir, 'to-backup'), 0, 'initial push');
    const target = `${sinkRoot}/laptop/${data}`;
    assert.deepEqual(await guids(target), await guids(data));
    assert.deepEqual(await guids(`${target}/a`), await guids(`${data}/a`));

    await writeFile(`${data}/a`, 'more', 256 * 1024);
    await snapshot(`${data}@s2`, { recursive: true });
    const since = sink!.logs().length;
    const second = expectExit(await run(clientDir, 'to-backup'), 0, 'incremental push');
    assert.deepEqual(await guids(`${target}/a`), await guids(`${data}/a`));
    assert.deepEqual(Object.keys(await guids(`${target}/a`)), ['s1', 's2']);
    assert.match(second.stdout + second.stderr, new RegExp(`${data}/a@s1 -> ${data}/a@s2`), `the second run sent @s1 -> @s2:\n${second.stderr}`);
    assert.equal(await datasetExists(`${sinkRoot}/${data}`), false, 'nothing outside root_fs/laptop');

    const sessions = sink!
      .logs()
      .slice(since)
      .filter((line) => line.msg === 'client connected');
    assert.ok(sessions.length >= 1, 'the sink logged the session');
    for (const line of sessions) {
      assert.equal(line.job, 'backups');
      assert.equal(line.identity, 'laptop');
      assert.equal(line.transport, 'stdinserver');
      assert.deepEqual(line.roots, [`${sinkRoot}/laptop`]);
    }
  });

  test('while a session lasts, status and /metrics show it for identity laptop over stdinserver', async () => {
    // An ssh session with the laptop key that says nothing yet: the forced command connects, the daemon waits for calls.
    const session = execa('ssh', [...sshd().sshArgs(laptopKey), sshd().host, 'ignored'], { reject: false, stdin: 'pipe' });
    try {
      const connections = await connectionsOnce(sink!, (now) => now.length > 0, 'the session is listed');
      assert.equal(connections.length, 1, JSON.stringify(connections));
      assert.equal(connections[0]?.job, 'backups');
      assert.equal(connections[0]?.identity, 'laptop');
      assert.equal(connections[0]?.transport, 'stdinserver');

      const open = samplesOf((await httpGet(`http://127.0.0.1:${metricsPort}/metrics`)).body, 'zferry_open_connections', {
        identity: 'laptop',
        transport: 'stdinserver',
      });
      assert.deepEqual(
        open.map((s) => [s.labels.zferry_job, s.value]),
        [['backups', 1]],
      );
    } finally {
      session.stdin.end();
      await session;
    }
    // Its end closes it on the daemon's side too.
    await connectionsOnce(sink!, (now) => now.length === 0, 'the session is gone');
    const closed = samplesOf((await httpGet(`http://127.0.0.1:${metricsPort}/metrics`)).body, 'zferry_open_connections', {
      identity: 'laptop',
      transport: 'stdinserver',
    });
    assert.deepEqual(
      closed.map((s) => s.value),
      [0],
    );
  });

  test('the laptop key cannot act as desk: refused, naming its own root; nothing lands below root_fs/desk', async () => {
    const before = (await datasetExists(`${sinkRoot}/desk`)) ? await listAll(`${sinkRoot}/desk`) : [];
    const since = sink!.logs().length;
    const refused = await run(clientDir, 'as-desk');
    assert.equal(refused.exitCode, 1, `refused:\n${refused.stdout}\n${refused.stderr}`);
    assert.match(
      refused.stdout + refused.stderr,
      new RegExp(`client 'laptop' may not touch ${sinkRoot}/desk/\\S+ \\(its root is ${sinkRoot}/laptop\\)`),
      'the refusal names the identity and the root the session is confined to',
    );
    assert.deepEqual((await datasetExists(`${sinkRoot}/desk`)) ? await listAll(`${sinkRoot}/desk`) : [], before);
    assert.equal(await datasetExists(`${sinkRoot}/desk/${data}`), false);
    const identities = sink!
      .logs()
      .slice(since)
      .filter((line) => line.msg === 'client connected')
      .map((line) => line.identity);
    assert.ok(identities.length >= 1 && identities.every((identity) => identity === 'laptop'), `sessions: ${identities.join(', ')}`);
  });

  test('with the sink daemon stopped, the push fails with the NO_DAEMON line', async () => {
    const stopped = await sink!.stop();
    assert.equal(stopped.exitCode, 0, stopped.stderr);
    const result = await run(clientDir, 'to-backup');
    assert.equal(result.exitCode, 1, `${result.stdout}\n${result.stderr}`);
    // The run's summary (its lines that are not JSON log lines) says why in one line, with the forced command's own words.
    const noDaemon = `[NO_DAEMON] no zferry daemon serves stdinserver identity laptop (nothing listens on ${sinkDir.dir}/stdinserver/laptop)`;
    const summary = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.includes('[NO_DAEMON]') && !line.startsWith('{'));
    assert.equal(summary.length, 1, `one summary line names it:\n${result.stderr}`);
    assert.equal(summary[0]?.split(noDaemon).length, 2, `once, whole: ${summary[0]}`);
  });
});

describe('pull over ssh+stdinserver from a source daemon', () => {
  const sshd = useSshd();
  const src = usePool();
  const dst = usePool();
  let sourceDir: DaemonDir;
  let clientDir: DaemonDir;
  let source: RunningDaemon | undefined;
  let data = '';
  let pulled = '';

  before(async () => {
    sourceDir = await daemonDir();
    clientDir = await daemonDir();
    data = await createDataset(src.pool.dataset('data'));
    await createDataset(`${data}/kept`);
    await createDataset(`${data}/hidden`);
    await writeFile(`${data}/kept`, 'blob', 256 * 1024);
    await snapshot(`${data}@s1`, { recursive: true });
    pulled = await createDataset(dst.pool.dataset('pulled'), { properties: { mountpoint: 'none' } });
    await writeServerConfig(
      sourceDir,
      [],
      [
        '  - name: served',
        '    type: source',
        '    serve: {type: stdinserver, client_identities: [backup]}',
        `    filesystems: {"${data}<": true, "${data}/hidden": false}`,
        '    snapshotting: {type: manual}',
      ],
    );
    const key = await stdinserverKey(sshd(), 'backup', sourceDir.configFile);
    await clientDir.writeConfig(
      [
        'jobs:',
        '  - name: fetch',
        '    type: pull',
        stdinserverConnectYaml(sshd(), key, '    '),
        // No filesystems: the source's session says what it serves.
        `    root_fs: ${pulled}`,
        '    interval: 1h',
        '    conflict_resolution: {initial_replication: all}',
        '',
      ].join('\n'),
    );
    source = startDaemon(sourceDir);
    await daemonReady(source);
  });

  after(async () => {
    if (source && !source.process.exited) await source.stop();
    await sourceDir?.remove();
    await clientDir?.remove();
  });

  test("the source's filter arrives, verified by guid; the excluded filesystem does not", async () => {
    expectExit(await run(clientDir, 'fetch'), 0, 'pull');
    assert.deepEqual(await guids(`${pulled}/${data}/kept`), await guids(`${data}/kept`));
    assert.deepEqual(await guids(`${pulled}/${data}`), await guids(data));
    assert.equal(await datasetExists(`${pulled}/${data}/hidden`), false, 'the excluded filesystem was not sent');
    const sessions = source!.logs().filter((line) => line.msg === 'client connected');
    assert.ok(sessions.length >= 1);
    assert.ok(sessions.every((line) => line.job === 'served' && line.identity === 'backup' && line.transport === 'stdinserver'));
  });
});
