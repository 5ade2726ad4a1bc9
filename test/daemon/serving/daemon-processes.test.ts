/**
 * Two real `zferry daemon` processes on one host: a backup daemon serving a sink and a source
 * over tcp and over mutual TLS (certificates made here with openssl), and a client daemon whose
 * push jobs connect to the sinks and whose pull jobs connect to the sources, configured in
 * zrepl's YAML form. Each lands where the server says: a push below `root_fs/<identity>` (the
 * address's entry in `clients`, the certificate's CN), verified by guid; the backup daemon logs
 * every session with its job, identity and transport, and its status lists the connections.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { JobStatusView } from '../../../daemon/status-types.js';
import { daemonDir, daemonReady, startDaemon, type DaemonDir, type RunningDaemon } from '../../helpers/daemon-process.js';
import { createTestCa, type TestCa } from '../../helpers/tls-ca.js';
import { createDataset, datasetExists, listSnapshots, snapshot, usePool } from '../../helpers/zfs-pool.js';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function guids(filesystem: string): Promise<Record<string, string>> {
  return Object.fromEntries((await listSnapshots(filesystem)).map((s) => [s.name, s.guid]));
}

const ended = (job: JobStatusView): boolean => job.last?.outcome !== undefined;

describe('a client daemon pushing to and pulling from a backup daemon over tcp and tls', () => {
  const src = usePool();
  const dst = usePool();
  let ca: TestCa;
  let serverDir: DaemonDir;
  let clientDir: DaemonDir;
  let server: RunningDaemon | undefined;
  let client: RunningDaemon | undefined;
  let data = '';
  let sinkRoot = '';
  let pulled = '';

  before(async () => {
    ca = await createTestCa();
    serverDir = await daemonDir();
    clientDir = await daemonDir();
    data = await createDataset(src.pool.dataset('data'));
    await createDataset(`${data}/a`);
    await snapshot(`${data}@s1`, { recursive: true });
    sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    pulled = await createDataset(dst.pool.dataset('pulled'), { properties: { mountpoint: 'none' } });
    const [sinkTcp, sinkTls, sourceTcp, sourceTls] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const desktop = await ca.issueClient('desktop');
    const backupHost = await ca.issueClient('backup-host');
    const tlsFiles = (indent: string, cert: string, key: string): string[] => [
      `${indent}ca: ${ca.caCertPath}`,
      `${indent}cert: ${cert}`,
      `${indent}key: ${key}`,
    ];
    await serverDir.writeConfig(
      [
        'jobs:',
        '  - name: sink-tcp',
        '    type: sink',
        `    root_fs: ${sinkRoot}/tcp`,
        `    serve: {type: tcp, listen: "127.0.0.1:${sinkTcp}", clients: {"127.0.0.1": "laptop"}}`,
        '  - name: sink-tls',
        '    type: sink',
        `    root_fs: ${sinkRoot}/tls`,
        '    serve:',
        '      type: tls',
        `      listen: "127.0.0.1:${sinkTls}"`,
        ...tlsFiles('      ', ca.server.certPath, ca.server.keyPath),
        '      client_cns: [desktop]',
        '  - name: source-tcp',
        '    type: source',
        `    serve: {type: tcp, listen: "127.0.0.1:${sourceTcp}", clients: {"127.0.0.0/8": "puller-*"}}`,
        `    filesystems: {"${data}<": true}`,
        '    snapshotting: {type: manual}',
        '  - name: source-tls',
        '    type: source',
        '    serve:',
        '      type: tls',
        `      listen: "127.0.0.1:${sourceTls}"`,
        ...tlsFiles('      ', ca.server.certPath, ca.server.keyPath),
        '      client_cns: [backup-host]',
        `    filesystems: {"${data}<": true}`,
        '    snapshotting: {type: manual}',
        '',
      ].join('\n'),
    );
    await clientDir.writeConfig(
      [
        'jobs:',
        '  - name: push-tcp',
        '    type: push',
        `    connect: {type: tcp, address: "127.0.0.1:${sinkTcp}"}`,
        `    filesystems: {"${data}<": true}`,
        '    snapshotting: {type: manual}',
        '    interval: 1h',
        '    conflict_resolution: {initial_replication: all}',
        '  - name: push-tls',
        '    type: push',
        '    connect:',
        '      type: tls',
        `      address: "127.0.0.1:${sinkTls}"`,
        ...tlsFiles('      ', desktop.certPath, desktop.keyPath),
        '      server_cn: localhost',
        `    filesystems: {"${data}<": true}`,
        '    snapshotting: {type: manual}',
        '    interval: 1h',
        '    conflict_resolution: {initial_replication: all}',
        '  - name: pull-tcp',
        '    type: pull',
        `    connect: {type: tcp, address: "127.0.0.1:${sourceTcp}"}`,
        `    root_fs: ${pulled}/tcp`,
        '    interval: 1h',
        '    conflict_resolution: {initial_replication: all}',
        '  - name: pull-tls',
        '    type: pull',
        '    connect:',
        '      type: tls',
        `      address: "127.0.0.1:${sourceTls}"`,
        ...tlsFiles('      ', backupHost.certPath, backupHost.keyPath),
        '      server_cn: localhost',
        `    root_fs: ${pulled}/tls`,
        '    interval: 1h',
        '    conflict_resolution: {initial_replication: all}',
        '',
      ].join('\n'),
    );
    await createDataset(`${sinkRoot}/tcp`);
    await createDataset(`${sinkRoot}/tls`);
    await createDataset(`${pulled}/tcp`);
    await createDataset(`${pulled}/tls`);
  });

  after(async () => {
    for (const daemon of [client, server]) if (daemon && !daemon.process.exited) await daemon.stop();
    await serverDir?.remove();
    await clientDir?.remove();
    await ca?.cleanup();
  });

  test('each job lands where the server says, with the sender guids; the server logs and lists its sessions', async () => {
    server = startDaemon(serverDir);
    const serverStatus = await daemonReady(server);
    assert.deepEqual(serverStatus.connections, [], 'listening, nobody connected yet');
    assert.deepEqual(
      serverStatus.jobs.map((job) => [job.name, job.state]),
      [
        ['sink-tcp', 'serving'],
        ['sink-tls', 'serving'],
        ['source-tcp', 'serving'],
        ['source-tls', 'serving'],
      ],
    );

    client = startDaemon(clientDir);
    await daemonReady(client);
    for (const name of ['push-tcp', 'push-tls', 'pull-tcp', 'pull-tls']) {
      const job = await client.waitForJob(name, ended, 'its first run ended');
      assert.equal(job.last?.outcome, 'ok', `${name}: ${JSON.stringify(job.last?.error)}`);
    }

    assert.deepEqual(await guids(`${sinkRoot}/tcp/laptop/${data}`), await guids(data), 'push over tcp: below root_fs/<clients entry>');
    assert.deepEqual(await guids(`${sinkRoot}/tcp/laptop/${data}/a`), await guids(`${data}/a`));
    assert.deepEqual(await guids(`${sinkRoot}/tls/desktop/${data}`), await guids(data), 'push over tls: below root_fs/<certificate CN>');
    assert.deepEqual(await guids(`${pulled}/tcp/${data}/a`), await guids(`${data}/a`), 'pull over tcp');
    assert.deepEqual(await guids(`${pulled}/tls/${data}`), await guids(data), 'pull over tls');
    assert.equal(await datasetExists(`${sinkRoot}/tcp/${data}`), false, 'nothing outside root_fs/<identity>');
    assert.equal(await datasetExists(`${sinkRoot}/tls/${data}`), false, 'nothing outside root_fs/<identity>');

    const sessions = server.logs().filter((line) => line.msg === 'client connected');
    const seen = new Set(sessions.map((line) => `${String(line.job)} ${String(line.identity)} ${String(line.transport)}`));
    for (const expected of ['sink-tcp laptop tcp', 'sink-tls desktop tls', 'source-tcp puller-127.0.0.1 tcp', 'source-tls backup-host tls']) {
      assert.ok(seen.has(expected), `the server logged a session ${expected}: ${[...seen].join('; ')}`);
    }
    assert.ok(sessions.every((line) => typeof line.peer === 'string' && line.peer.includes('127.0.0.1')));
  });
});
