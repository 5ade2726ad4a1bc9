/**
 * The /metrics endpoint on a real socket: the text format with its content type, the default
 * process metrics beside zferry's, 404 elsewhere, and a port in use refused with an error that
 * names the address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pino from 'pino';
import type { MonitoringConfig } from '../../../config/types.js';
import { DaemonMetrics } from '../../../daemon/metrics/daemon-metrics.js';
import { MetricsListenError, startMetricsServer } from '../../../daemon/metrics/http-server.js';
import { httpGet, valueOf } from '../../helpers/prometheus-text.js';

const logger = pino({ level: 'silent' });

function endpoint(port: number): MonitoringConfig {
  return { type: 'prometheus', listen: `127.0.0.1:${port}`, host: '127.0.0.1', port };
}

test('GET /metrics answers the text format; other paths 404, other methods 405', async () => {
  const metrics = new DaemonMetrics();
  metrics.invocationEnded('laptop', { outcome: 'ok', filesystems: [] });
  const server = await startMetricsServer(metrics, [endpoint(0)], logger);
  try {
    const port = server.addresses[0]?.port;
    assert.ok(port !== undefined && port > 0);
    const answer = await httpGet(`http://127.0.0.1:${port}/metrics`);
    assert.equal(answer.status, 200);
    assert.equal(answer.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(valueOf(answer.body, 'zferry_invocations_total', { zferry_job: 'laptop', outcome: 'ok' }), 1);
    assert.match(answer.body, /^# TYPE process_cpu_user_seconds_total counter$/m, 'the default process metrics are there');
    assert.match(answer.body, /^# HELP zferry_late /m);
    assert.equal((await httpGet(`http://127.0.0.1:${port}/`)).status, 404);
    assert.equal((await httpGet(`http://127.0.0.1:${port}/metrics/x`)).status, 404);
    assert.equal((await httpGet(`http://127.0.0.1:${port}/metrics`, 'POST')).status, 405);
  } finally {
    await server.close();
  }
});

test('a port in use fails the start, naming the address', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    await assert.rejects(startMetricsServer(new DaemonMetrics(), [endpoint(port)], logger), (error: unknown) => {
      assert.ok(error instanceof MetricsListenError);
      assert.equal(error.code, 'METRICS_LISTEN_FAILED');
      assert.equal(error.message, `cannot serve prometheus metrics on 127.0.0.1:${port}: the address is in use`);
      return true;
    });
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});
