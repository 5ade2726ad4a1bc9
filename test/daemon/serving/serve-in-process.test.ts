/**
 * A daemon serving its sink and source jobs over real tcp and mutual-TLS sockets, on real
 * pools, with the client side run as `zferry run` runs it (an Invocation of a push or pull job
 * with a tcp or tls connect): data lands below `root_fs/<identity>` with the sender's guids;
 * the served session shows in status while it lasts; every refusal (an address no rule covers;
 * an untrusted CA, an expired certificate, a CN not in client_cns, no certificate at all, a
 * server CN that is not server_cn) fails the client before any call, receives nothing, and the
 * server logs it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { ClientAddressRule, JobConfig, PullJob, PushJob, ServeTcp, ServeTls, TcpConnect, TlsConnect } from '../../../config/types.js';
import { Daemon } from '../../../daemon/daemon.js';
import { Invocation, type InvocationResult } from '../../../daemon/invocation.js';
import { EndpointOpener } from '../../../replication/endpoint/open.js';
import { endpointContract } from '../../../replication/contract.js';
import { connect } from '../../../rpc/client.js';
import { listenTcp, tcpConnector } from '../../../transport/tcp.js';
import { TokenBucket } from '../../../replication/throttle/token-bucket.js';
import { ZfsDriver } from '../../../replication/zfs/index.js';
import { ConnectionRegistry } from '../../../daemon/serving/connection-registry.js';
import { serveConnection } from '../../../daemon/serving/serve-endpoint.js';
import { localIdentity } from '../../../replication/endpoint/identity.js';
import { acquireTargetLock } from '../../../replication/job/target-lock.js';
import { daemonConfig, pullFromSource, pushToSink, sink, source } from '../../helpers/daemon-config.js';
import { createTestCa, type CertificatePair, type TestCa } from '../../helpers/tls-ca.js';
import { memoryLogger, type LogRecord } from '../../helpers/zfs-logger.js';
import { createDataset, datasetExists, listAll, listSnapshots, snapshot, usePool } from '../../helpers/zfs-pool.js';

const position = { file: '/test/zferry.yml', line: 1, column: 1 };

function clientRule(pattern: string, identity: string): ClientAddressRule {
  const [address = '', prefix] = pattern.split('/');
  return { pattern, address, prefixLength: prefix !== undefined ? Number(prefix) : 32, family: 4, identity, position };
}

const serveTcp = (clients: ClientAddressRule[]): ServeTcp => ({ type: 'tcp', listen: '127.0.0.1:0', host: '127.0.0.1', port: 0, clients });

function serveTls(ca: TestCa, clientCns: string[]): ServeTls {
  return {
    type: 'tls',
    listen: '127.0.0.1:0',
    host: '127.0.0.1',
    port: 0,
    ca: ca.caCertPath,
    cert: ca.server.certPath,
    key: ca.server.keyPath,
    clientCns,
    handshakeTimeoutMs: 5000,
  };
}

const connectTcp = (port: number): TcpConnect => ({ type: 'tcp', address: `127.0.0.1:${port}`, host: '127.0.0.1', port, dialTimeoutMs: 5000 });

function connectTls(ca: TestCa, port: number, client: CertificatePair, serverCn = 'localhost'): TlsConnect {
  return {
    type: 'tls',
    address: `127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    ca: ca.caCertPath,
    cert: client.certPath,
    key: client.keyPath,
    serverCn,
    dialTimeoutMs: 5000,
    handshakeTimeoutMs: 5000,
  };
}

async function guids(filesystem: string): Promise<Record<string, string>> {
  return Object.fromEntries((await listSnapshots(filesystem)).map((s) => [s.name, s.guid]));
}

/** A daemon running `jobs`; its logs in memory. */
async function serving(jobs: JobConfig[]): Promise<{ daemon: Daemon; records: LogRecord[]; port(job: string): number; stop(): Promise<void> }> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'zferry-serving-'));
  const { logger, records } = memoryLogger('info');
  const daemon = await Daemon.create({ config: daemonConfig(jobs, stateDir), logger, version: 'test', opener: new EndpointOpener({ logger }) });
  await daemon.begin();
  return {
    daemon,
    records,
    port: (job) => {
      const port = daemon.serving.listenerOf(job)?.port;
      assert.ok(port !== undefined, `job ${job} listens`);
      return port;
    },
    stop: async () => {
      await daemon.shutdown();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** One invocation of a push or pull job, as `zferry run` starts it. */
function runJob(job: PushJob | PullJob, logger: Logger, maxAttempts = 1): Promise<InvocationResult> {
  return new Invocation({
    job,
    listeners: new Map(),
    opener: new EndpointOpener({ logger }),
    hostname: 'client-host',
    logger,
    trigger: 'run',
    maxAttempts,
    firstBackoffMs: 10,
  }).result;
}

const messages = (records: LogRecord[]): string[] => records.map((record) => String(record.msg));

describe('serving a sink over tcp and tls', () => {
  const src = usePool();
  const dst = usePool();
  let ca: TestCa;
  let data = '';
  let sinkRoot = '';
  let server: Awaited<ReturnType<typeof serving>>;

  before(async () => {
    ca = await createTestCa();
    data = await createDataset(src.pool.dataset('data'));
    await createDataset(`${data}/a`);
    await snapshot(`${data}@s1`, { recursive: true });
    sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    server = await serving([
      sink('plain', 'unused-1', sinkRoot, { serve: serveTcp([clientRule('127.0.0.1', 'laptop'), clientRule('10.0.0.0/8', 'office')]) }),
      sink('secure', 'unused-2', sinkRoot, { serve: serveTls(ca, ['desktop', 'old']) }),
      sink('closed', 'unused-3', sinkRoot, { serve: serveTcp([clientRule('10.0.0.0/8', 'office')]) }),
      sink('rootless', 'unused-4', dst.pool.dataset('missing'), { serve: serveTcp([clientRule('127.0.0.1', 'laptop')]) }),
    ]);
  });

  after(async () => {
    await server?.stop();
    await ca?.cleanup();
  });

  test('a push over tcp lands below root_fs/<identity of its address>, with the source guids; status showed the session', async () => {
    const { logger } = memoryLogger('info');
    const job = pushToSink('laptop-job', { [`${data}<`]: true }, 'unused', 'unused', { connect: connectTcp(server.port('plain')) });
    const result = await runJob(job, logger);
    assert.equal(result.outcome, 'ok', JSON.stringify(result.error));
    assert.deepEqual(await guids(`${sinkRoot}/laptop/${data}`), await guids(data));
    assert.deepEqual(await guids(`${sinkRoot}/laptop/${data}/a`), await guids(`${data}/a`));
    const connected = server.records.find((record) => record.msg === 'client connected' && record.job === 'plain');
    assert.equal(connected?.identity, 'laptop');
    assert.equal(connected?.transport, 'tcp');
    assert.deepEqual(connected?.roots, [`${sinkRoot}/laptop`]);
    const status = server.daemon.status();
    assert.deepEqual(status.connections, [], 'the session ended with the job');
  });

  test('a push over mutual TLS lands below root_fs/<certificate CN>', async () => {
    const { logger } = memoryLogger('info');
    const desktop = await ca.issueClient('desktop');
    const job = pushToSink('desktop-job', { [`${data}<`]: true }, 'unused', 'unused', { connect: connectTls(ca, server.port('secure'), desktop) });
    const result = await runJob(job, logger);
    assert.equal(result.outcome, 'ok', JSON.stringify(result.error));
    assert.deepEqual(await guids(`${sinkRoot}/desktop/${data}`), await guids(data));
    const connected = server.records.find((record) => record.msg === 'client connected' && record.job === 'secure');
    assert.equal(connected?.identity, 'desktop');
  });

  test('a session says who the client is and where it lands; status and onConnectionChange see it while it lasts', async () => {
    const changes: Array<[string, string, number]> = [];
    const unsubscribe = server.daemon.onConnectionChange((event) => changes.push([event.change, event.connection.identity, event.open]));
    const connection = await tcpConnector({ host: '127.0.0.1', port: server.port('plain') }).connect();
    const client = await connect(connection, endpointContract);
    try {
      assert.deepEqual(await client.session({}), { identity: 'laptop', roots: [`${sinkRoot}/laptop`], pathMapping: 'nested' });
      const [open] = server.daemon.status().connections ?? [];
      assert.equal(open?.job, 'plain');
      assert.equal(open?.identity, 'laptop');
      assert.equal(open?.transport, 'tcp');
      assert.match(open?.peer ?? '', /^tcp from 127\.0\.0\.1:\d+/);
      // Confined: anything outside root_fs/laptop is refused, the refusal naming the client.
      await assert.rejects(client.listVersionTree({ root: sinkRoot, recursive: false }), /client 'laptop' may not touch/);
    } finally {
      await client.close();
    }
    for (let tries = 0; tries < 100 && (server.daemon.status().connections ?? []).length > 0; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(server.daemon.status().connections, []);
    unsubscribe();
    assert.deepEqual(changes, [
      ['opened', 'laptop', 1],
      ['closed', 'laptop', 0],
    ]);
  });

  test("a sink session holds the host's target lock on its root while it writes; a local run into that tree finds it busy", async () => {
    const client = await connect(await tcpConnector({ host: '127.0.0.1', port: server.port('plain') }).connect(), endpointContract);
    const local = (dataset: string): string => localIdentity(os.hostname(), dataset).canonical;
    try {
      // Listing takes no lock.
      await client.listVersionTree({ root: `${sinkRoot}/laptop`, recursive: false });
      const free = await acquireTargetLock({ destination: local(`${sinkRoot}/laptop/tank`), job: 'local-run', waitMs: 0 });
      await free.release();
      await client.ensureParent({ filesystem: `${sinkRoot}/laptop/${data}/x` });
      await assert.rejects(
        acquireTargetLock({ destination: local(`${sinkRoot}/laptop/tank`), job: 'local-run', waitMs: 0 }),
        (error: Error & { code?: string }) => error.code === 'TARGET_BUSY' && /serving laptop \(job plain\)/.test(error.message),
      );
    } finally {
      await client.close();
    }
    // Released with the session.
    let lock: Awaited<ReturnType<typeof acquireTargetLock>> | undefined;
    for (let tries = 0; tries < 100 && lock === undefined; tries++) {
      lock = await acquireTargetLock({ destination: local(`${sinkRoot}/laptop/tank`), job: 'local-run', waitMs: 0 }).catch(() => undefined);
      if (lock === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(lock !== undefined, 'free again once the session ended');
    await lock.release();
  });

  test("serveConnection, as every listener calls it: the client lands below its identity, paced by the job's bucket", async () => {
    class CountingBucket extends TokenBucket {
      taken = 0;
      override take(bytes: number, signal?: AbortSignal): Promise<void> {
        this.taken += bytes;
        return super.take(bytes, signal);
      }
    }
    const bucket = new CountingBucket({ bytesPerSecond: 1e10, capacityBytes: 1 << 20 });
    const { logger } = memoryLogger('info');
    const registry = new ConnectionRegistry();
    const context = { logger, driver: new ZfsDriver({ logger }), registry, hostname: os.hostname(), buckets: () => ({ recv: bucket }) };
    const job = sink('direct', 'unused-d', sinkRoot);
    const listener = await listenTcp({ host: '127.0.0.1', port: 0 }, (connection) => void serveConnection(connection, job, 'via-serve', context));
    try {
      const push = pushToSink('via-serve-job', { [`${data}<`]: true }, 'unused', 'unused', { connect: connectTcp(listener.port) });
      const result = await runJob(push, memoryLogger('info').logger);
      assert.equal(result.outcome, 'ok', JSON.stringify(result.error));
      assert.deepEqual(await guids(`${sinkRoot}/via-serve/${data}`), await guids(data));
      assert.ok(bucket.taken >= result.bytes && result.bytes > 0, `the bucket paced ${bucket.taken} of ${result.bytes} bytes`);
    } finally {
      await listener.close();
    }
  });

  test('a reload restarts the listener of a changed job only', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'zferry-serving-'));
    const { logger } = memoryLogger('info');
    const first = [
      sink('a', 'unused-a', sinkRoot, { serve: serveTcp([clientRule('127.0.0.1', 'one')]) }),
      sink('b', 'unused-b', sinkRoot, { serve: serveTcp([clientRule('127.0.0.1', 'two')]) }),
    ];
    const daemon = await Daemon.create({ config: daemonConfig(first, stateDir), logger, version: 'test', opener: new EndpointOpener({ logger }) });
    try {
      await daemon.begin();
      const [a, b] = [daemon.serving.listenerOf('a'), daemon.serving.listenerOf('b')];
      assert.ok(a !== undefined && b !== undefined);
      await daemon.reload(
        daemonConfig([first[0] as JobConfig, sink('b', 'unused-b', sinkRoot, { serve: serveTcp([clientRule('127.0.0.1', 'three')]) })], stateDir),
      );
      assert.equal(daemon.serving.listenerOf('a'), a, 'unchanged: the same listener');
      const b2 = daemon.serving.listenerOf('b');
      assert.ok(b2 !== undefined && b2 !== b, 'changed: a new listener');
      const client = await connect(await tcpConnector({ host: '127.0.0.1', port: b2.port ?? 0 }).connect(), endpointContract);
      try {
        assert.equal((await client.session({})).identity, 'three');
      } finally {
        await client.close();
      }
      await daemon.reload(daemonConfig([first[0] as JobConfig], stateDir));
      assert.equal(daemon.serving.listenerOf('b'), undefined, 'removed: stopped');
    } finally {
      await daemon.shutdown();
      await rm(stateDir, { recursive: true, force: true });
    }
    assert.deepEqual(daemon.serving.listeners(), [], 'shutdown stops every listener');
  });

  test('a tcp client whose address no rule covers is refused before any call, and logged with its address', async () => {
    const { logger } = memoryLogger('info');
    const before = await listAll(sinkRoot);
    const job = pushToSink('stranger', { [`${data}<`]: true }, 'unused', 'unused', { connect: connectTcp(server.port('closed')) });
    const result = await runJob(job, logger);
    assert.equal(result.outcome, 'failed');
    assert.match(result.error?.message ?? '', /closed the connection before HELLO; the server refuses clients whose address .*`clients` does not list/);
    assert.deepEqual(await listAll(sinkRoot), before, 'nothing received');
    const refused = server.records.find((record) => record.job === 'closed' && /refused tcp client 127\.0\.0\.1/.test(String(record.msg)));
    assert.ok(refused, messages(server.records).join('\n'));
    assert.ok(!server.records.some((record) => record.msg === 'client connected' && record.job === 'closed'));
  });

  test('a sink whose root_fs is missing says so at the session, and nothing is created', async () => {
    const { logger } = memoryLogger('info');
    const job = pushToSink('laptop-job', { [`${data}<`]: true }, 'unused', 'unused', { connect: connectTcp(server.port('rootless')) });
    const result = await runJob(job, logger);
    assert.equal(result.outcome, 'failed');
    assert.match(result.error?.message ?? '', /sink 'rootless': its root_fs \S+\/missing does not exist on the serving host/);
    assert.equal(await datasetExists(dst.pool.dataset('missing')), false);
  });

  test('a lost connection before the session is tried again like a run, then fails', async () => {
    const { logger, records } = memoryLogger('info');
    const refusedSoFar = (): number => server.records.filter((record) => record.job === 'closed' && /refused tcp client/.test(String(record.msg))).length;
    const before = refusedSoFar();
    const job = pushToSink('stranger', { [`${data}<`]: true }, 'unused', 'unused', { connect: connectTcp(server.port('closed')) });
    const result = await runJob(job, logger, 3);
    assert.equal(result.outcome, 'failed');
    assert.equal(records.filter((record) => record.msg === 'no session with the served side: trying again').length, 2);
    for (let tries = 0; tries < 100 && refusedSoFar() - before < 3; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(refusedSoFar() - before, 3, 'three attempts, each refused');
  });

  const refusals: Array<{ what: string; client: () => Promise<CertificatePair>; serverCn?: string; clientError: RegExp; serverLog?: RegExp }> = [
    {
      what: 'a certificate of another CA',
      client: () => ca.issueUntrustedClient('desktop'),
      clientError: /rejected our client certificate \(subject CN=desktop, issuer CN=zferry untrusted CA\)/,
      serverLog: /refused tls client: .*certificate not trusted/,
    },
    {
      what: 'an expired certificate',
      client: () => ca.issueExpiredClient('old'),
      clientError: /rejected our client certificate \(subject CN=old.*or it expired/,
      serverLog: /refused tls client: .*CERT_HAS_EXPIRED/,
    },
    {
      what: 'a CN not in client_cns',
      client: () => ca.issueClient('mallory'),
      clientError: /rejected our client certificate \(subject CN=mallory.*or its CN is not in the server's client_cns/,
      serverLog: /refused tls client: its certificate CN "mallory" is not in client_cns/,
    },
    {
      what: 'a server certificate whose CN is not server_cn',
      client: () => ca.issueClient('desktop'),
      serverCn: 'backup.example',
      clientError: /CN is "localhost", expected server_cn "backup\.example"/,
    },
  ];

  for (const refusal of refusals) {
    test(`tls refuses ${refusal.what}: the client fails before any call, nothing is received, the refusal is logged`, async () => {
      const { logger } = memoryLogger('info');
      const since = server.records.length;
      const before = await listAll(sinkRoot);
      const client = await refusal.client();
      const job = pushToSink('refused', { [`${data}<`]: true }, 'unused', 'unused', {
        connect: connectTls(ca, server.port('secure'), client, refusal.serverCn),
      });
      const result = await runJob(job, logger);
      assert.equal(result.outcome, 'failed');
      assert.match(result.error?.message ?? '', refusal.clientError);
      assert.deepEqual(await listAll(sinkRoot), before, 'nothing received');
      const logged = server.records.slice(since);
      assert.ok(!logged.some((record) => record.msg === 'client connected'), 'never served');
      if (refusal.serverLog !== undefined) {
        const pattern = refusal.serverLog;
        // The server logs once the handshake ended on its side.
        for (let tries = 0; tries < 100 && !logged.some((record) => pattern.test(String(record.msg))); tries++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          logged.push(...server.records.slice(since + logged.length));
        }
        assert.ok(
          logged.some((record) => pattern.test(String(record.msg))),
          messages(logged).join('\n'),
        );
      }
    });
  }

  test('tls refuses a client that sends no certificate, and logs it', async () => {
    const since = server.records.length;
    const socket = tls.connect({ host: '127.0.0.1', port: server.port('secure'), ca: ca.caCert, servername: 'localhost', minVersion: 'TLSv1.3' });
    await new Promise<void>((resolve) => {
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
    for (
      let tries = 0;
      tries < 100 && !server.records.slice(since).some((record) => /refused tls client: .*sent no client certificate/.test(String(record.msg)));
      tries++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(
      server.records.slice(since).some((record) => /refused tls client: .*sent no client certificate/.test(String(record.msg))),
      messages(server.records.slice(since)).join('\n'),
    );
    assert.ok(!server.records.slice(since).some((record) => record.msg === 'client connected'));
  });
});

describe('serving a source over tcp and tls', () => {
  const src = usePool();
  const dst = usePool();
  let ca: TestCa;
  let data = '';
  let server: Awaited<ReturnType<typeof serving>>;

  before(async () => {
    ca = await createTestCa();
    data = await createDataset(src.pool.dataset('data'));
    await createDataset(`${data}/a`);
    await createDataset(`${data}/tmp`);
    await createDataset(src.pool.dataset('private'));
    await snapshot(`${data}@s1`, { recursive: true });
    await snapshot(`${src.pool.dataset('private')}@s1`);
    server = await serving([
      { ...source('src-tcp', 'unused-1', { [`${data}<`]: true, [`${data}/tmp`]: false }), serve: serveTcp([clientRule('127.0.0.0/8', 'puller')]) },
      { ...source('src-tls', 'unused-2', { [`${data}<`]: true }), serve: serveTls(ca, ['backup-host']) },
    ]);
  });

  after(async () => {
    await server?.stop();
    await ca?.cleanup();
  });

  test('a pull over tcp pulls exactly what the source serves, its exclusions held back', async () => {
    const { logger } = memoryLogger('info');
    const rootFs = await createDataset(dst.pool.dataset('pulled-tcp'), { properties: { mountpoint: 'none' } });
    const job = pullFromSource('pull-tcp', 'unused', rootFs, { connect: connectTcp(server.port('src-tcp')) });
    const result = await runJob(job, logger);
    assert.equal(result.outcome, 'ok', JSON.stringify(result.error));
    assert.deepEqual(await guids(`${rootFs}/${data}`), await guids(data));
    assert.deepEqual(await guids(`${rootFs}/${data}/a`), await guids(`${data}/a`));
    assert.equal(await datasetExists(`${rootFs}/${src.pool.dataset('private')}`), false);
    assert.equal(await datasetExists(`${rootFs}/${data}/tmp`), false, "the source's filter holds back what it excludes");
    const connected = server.records.find((record) => record.msg === 'client connected' && record.job === 'src-tcp');
    assert.equal(connected?.identity, 'puller');
    assert.deepEqual(connected?.roots, [data]);
  });

  test('a pull over tls narrowed by its own filter pulls only what both select', async () => {
    const { logger } = memoryLogger('info');
    const rootFs = await createDataset(dst.pool.dataset('pulled-tls'), { properties: { mountpoint: 'none' } });
    const client = await ca.issueClient('backup-host');
    const job = pullFromSource('pull-tls', 'unused', rootFs, {
      connect: connectTls(ca, server.port('src-tls'), client),
      filesystems: (await import('../../helpers/daemon-config.js')).rules({ [`${data}/a`]: true }),
    });
    const result = await runJob(job, logger);
    assert.equal(result.outcome, 'ok', JSON.stringify(result.error));
    assert.deepEqual(await guids(`${rootFs}/${data}/a`), await guids(`${data}/a`));
    assert.deepEqual(await guids(`${rootFs}/${data}`), {}, 'only the parent placeholder, no snapshots of it');
  });
});
