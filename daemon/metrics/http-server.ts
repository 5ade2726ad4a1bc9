/**
 * `global.monitoring: [{type: prometheus, listen}]`: GET /metrics answers the registry in the
 * Prometheus text format; anything else is 404 (and a method other than GET or HEAD, 405). A
 * listen address that cannot be had (in use, not local) fails the daemon's start, naming it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { MonitoringConfig } from '../../config/types.js';
import { ZferryError, errorCode, errorMessage } from '../../platform/errors.js';
import type { DaemonMetrics } from './daemon-metrics.js';

export class MetricsListenError extends ZferryError {
  constructor(listen: string, cause: unknown) {
    const why = errorCode(cause) === 'EADDRINUSE' ? 'the address is in use' : errorMessage(cause);
    super('METRICS_LISTEN_FAILED', `cannot serve prometheus metrics on ${listen}: ${why}`, { cause });
  }
}

export interface MetricsServer {
  /** Where each endpoint listens (port resolved when the config said 0). */
  readonly addresses: ReadonlyArray<{ listen: string; host: string; port: number }>;
  close(): Promise<void>;
}

/** Listens on every prometheus endpoint of `monitoring`; throws MetricsListenError (the ones already listening are closed). */
export async function startMetricsServer(metrics: DaemonMetrics, monitoring: readonly MonitoringConfig[], logger: Logger): Promise<MetricsServer> {
  const servers: http.Server[] = [];
  const addresses: Array<{ listen: string; host: string; port: number }> = [];
  const closeAll = (): Promise<void> => Promise.all(servers.map((server) => closeServer(server))).then(() => undefined);
  try {
    for (const endpoint of monitoring) {
      if (endpoint.type !== 'prometheus') continue;
      const server = http.createServer((request, response) => void answer(metrics, request, response, logger));
      try {
        await listen(server, endpoint);
      } catch (error) {
        throw new MetricsListenError(endpoint.listen, error);
      }
      servers.push(server);
      const address = server.address() as AddressInfo;
      addresses.push({ listen: endpoint.listen, host: address.address, port: address.port });
      logger.info({ listen: endpoint.listen, port: address.port }, 'serving prometheus metrics on /metrics');
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  return { addresses, close: closeAll };
}

function listen(server: http.Server, endpoint: MonitoringConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // An empty host (`:9811`) listens on every address.
    server.listen({ port: endpoint.port, ...(endpoint.host !== '' ? { host: endpoint.host } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // A scraper's keep-alive connection would hold close() open.
    server.closeAllConnections();
  });
}

async function answer(metrics: DaemonMetrics, request: http.IncomingMessage, response: http.ServerResponse, logger: Logger): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  try {
    const body = await metrics.text();
    response.writeHead(200, { 'content-type': metrics.contentType });
    response.end(request.method === 'HEAD' ? undefined : body);
  } catch (error) {
    logger.error({ err: error }, 'collecting the metrics failed');
    response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`collecting the metrics failed: ${errorMessage(error)}\n`);
  }
}
