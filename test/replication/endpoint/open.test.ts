/**
 * Opening endpoints from their specs: a local side answers at once and names itself by this
 * host; a unix side is refused clearly, a tcp side with nobody listening fails its first call; an ssh side that cannot
 * connect fails its calls, and its destination, with the connection's own error.
 */
import net from 'node:net';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import pino from 'pino';
import { EndpointOpener } from '../../../replication/endpoint/open.js';
import type { EndpointSpec } from '../../../replication/endpoint/spec.js';
import { createDataset, snapshot, usePool } from '../../helpers/zfs-pool.js';

const logger = pino({ level: 'silent' });

describe('EndpointOpener', () => {
  const ctx = usePool({ sizeMiB: 64 });

  test('a local side lists its dataset and is named local://<this host>/<dataset>', async () => {
    const fs = await createDataset(ctx.pool.dataset('opened'));
    await snapshot(`${fs}@s1`);
    const opener = new EndpointOpener({ logger, hostname: 'Build-Host' });
    const side = opener.open({ kind: 'local', dataset: fs });
    try {
      const listing = await side.client.listVersionTree({ root: fs, recursive: false });
      assert.deepEqual(
        listing.filesystems.map((entry) => entry.versions.map((version) => version.name)),
        [['s1']],
      );
      assert.deepEqual(await side.destination(), { canonical: `local://build-host/${fs}`, legacy: [`Build-Host:${fs}`] });
    } finally {
      await side.close();
    }
  });

  test('a unix side is not supported: a clear error, nothing opened', () => {
    const spec: EndpointSpec = { kind: 'unix', path: '/run/zferry.sock', dataset: 'p/f' };
    assert.throws(
      () => new EndpointOpener({ logger }).open(spec),
      (error: Error & { code?: string }) => error.code === 'ENDPOINT_KIND_UNSUPPORTED' && error.message.startsWith('unix endpoints are not supported yet'),
    );
  });

  test('a tcp side nobody listens at fails its first call with the connection error; its destination names address and dataset', async () => {
    // A port just freed: nothing listens there.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const side = new EndpointOpener({ logger }).open({ kind: 'tcp', host: '127.0.0.1', port, dataset: 'p/f' });
    try {
      assert.deepEqual(await side.destination(), { canonical: `tcp://127.0.0.1:${port}/p/f`, legacy: [] });
      await assert.rejects(
        side.client.session({}),
        (error: Error & { code?: string }) => error.code === 'CONNECT_FAILED' && /nothing is listening/.test(error.message),
      );
    } finally {
      await side.close();
    }
  });

  test('an ssh side that cannot connect fails its calls and its destination with the connection error', async () => {
    // An ssh_config ssh refuses: `ssh -G` fails as the connection does, whose error says more.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-open-'));
    try {
      const configFile = path.join(dir, 'ssh_config');
      await writeFile(configFile, 'NoSuchKeyword yes\n');
      const side = new EndpointOpener({ logger }).open({
        kind: 'ssh',
        host: 'nas',
        configFile,
        options: [],
        remoteCommand: ['zferry', 'serve', '--stdio'],
        dataset: 'p/f',
      });
      const failure = await side.client.listVersionTree({ root: 'p/f', recursive: false }).then(
        () => assert.fail('the call succeeded'),
        (error: unknown) => error,
      );
      assert.match(String(failure), /ssh to nas failed/);
      await assert.rejects(side.destination(), (error) => error === failure);
      await side.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
