/**
 * The zferry side of the benchmark, one process per end:
 *   rpc-peer server tcp HOST PORT | server unix PATH | server stdio
 *   rpc-peer client tcp HOST PORT SCENARIO | client unix PATH SCENARIO | client stdio SCENARIO
 * SCENARIO: upload BYTES | calls SECONDS IN_FLIGHT | calls-bulk SECONDS IN_FLIGHT
 * A server serves one connection and exits when it closes. Results go to stderr (report.ts).
 */
import { errorStack } from '../../platform/errors.js';
import { tuneProcessForBulkStreams } from '../../platform/index.js';
import { RpcServer, connect } from '../../rpc/index.js';
import type { ConnectedClient } from '../../rpc/index.js';
import type { Listener, TransportConnection } from '../../transport/index.js';
import { listenTcp, listenUnix, stdioConnection, tcpConnector, unixConnector } from '../../transport/index.js';
import { benchContract, benchImplementation } from './bench-contract.js';
import { BulkSource } from './bulk.js';
import { cpuMsSince, now, report } from './report.js';
import { percentile } from './stats.js';

type BenchClient = ConnectedClient<typeof benchContract>;

function benchLimits(): { limits?: Record<string, number> } {
  const raw = process.env['ZFERRY_BENCH_LIMITS'];
  return raw ? { limits: JSON.parse(raw) as Record<string, number> } : {};
}

async function server(args: string[]): Promise<void> {
  const [transport, a, b] = args;
  const rpc = new RpcServer(benchLimits());
  rpc.register(benchContract, benchImplementation);
  if (transport === 'stdio') {
    await rpc.serve(stdioConnection()).closed;
    return;
  }
  let listener: Listener | undefined;
  const served = new Promise<void>((resolve) => {
    const onConnection = (connection: TransportConnection): void => {
      void rpc.serve(connection).closed.then(resolve);
    };
    const listening =
      transport === 'tcp'
        ? listenTcp({ host: a ?? '127.0.0.1', port: Number(b) }, onConnection)
        : transport === 'unix'
          ? listenUnix({ path: a ?? '' }, onConnection)
          : Promise.reject(new Error(`unknown transport ${String(transport)}`));
    void listening.then((l) => {
      listener = l;
      report({ listening: 'port' in l ? l.port : l.address });
    });
  });
  await served;
  await listener?.close();
}

async function upload(client: BenchClient, bytes: number): Promise<void> {
  const cpu = process.cpuUsage();
  const start = now();
  const result = await client.upload({}, new BulkSource(bytes));
  report({ start, end: result.end, bytes: result.bytes, senderCpuMs: cpuMsSince(cpu), receiverCpuMs: result.cpuMs });
}

/** Keep `inFlight` pings outstanding until `until`; latencies of those started after `from`. */
async function pingLoad(client: BenchClient, inFlight: number, from: number, until: number): Promise<Float64Array> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const worker = async (): Promise<void> => {
    for (let n = 0; ; n++) {
      const started = performance.now();
      if (started >= until) return;
      const answer = await client.ping({ n });
      if (answer.n !== n) throw new Error('ping answered the wrong call');
      if (started >= from) {
        if (count === latencies.length) {
          const bigger = new Float64Array(latencies.length * 2);
          bigger.set(latencies);
          latencies = bigger;
        }
        latencies[count++] = performance.now() - started;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return latencies.subarray(0, count).sort();
}

const WARMUP_MS = 500;

async function calls(client: BenchClient, seconds: number, inFlight: number, withBulk: boolean): Promise<void> {
  const bulk = withBulk ? new BulkSource(Number.POSITIVE_INFINITY) : undefined;
  const bulkResult = bulk ? client.upload({}, bulk) : undefined;
  const bulkStart = now();
  const from = performance.now() + WARMUP_MS;
  const until = from + seconds * 1000;
  const latencies = await pingLoad(client, inFlight, from, until);
  bulk?.stop();
  const bulkDone = bulkResult ? await bulkResult : undefined;
  report({
    calls: latencies.length,
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    ...(bulkDone ? { bulkBytes: bulkDone.bytes, bulkMs: bulkDone.end - bulkStart } : {}),
  });
}

async function client(args: string[]): Promise<void> {
  const [transport] = args;
  let rest: string[];
  let connection: Promise<TransportConnection>;
  if (transport === 'tcp') {
    connection = tcpConnector({ host: args[1] ?? '127.0.0.1', port: Number(args[2]) }).connect();
    rest = args.slice(3);
  } else if (transport === 'unix') {
    connection = unixConnector({ path: args[1] ?? '' }).connect();
    rest = args.slice(2);
  } else if (transport === 'stdio') {
    connection = Promise.resolve(stdioConnection());
    rest = args.slice(1);
  } else {
    throw new Error(`unknown transport ${String(transport)}`);
  }
  const rpc = await connect(await connection, benchContract, benchLimits());
  const [scenario, x, y] = rest;
  if (scenario === 'upload') await upload(rpc, Number(x));
  else if (scenario === 'calls' || scenario === 'calls-bulk') await calls(rpc, Number(x), Number(y), scenario === 'calls-bulk');
  else throw new Error(`unknown scenario ${String(scenario)}`);
  await rpc.close();
}

const [role, ...rest] = process.argv.slice(2);
// Like the zferry CLI: each end tunes its process before the first connection.
tuneProcessForBulkStreams();
const run = role === 'server' ? server : role === 'client' ? client : undefined;
if (!run) {
  process.stderr.write('usage: rpc-peer server|client TRANSPORT ...\n');
  process.exit(2);
}
run(rest).then(
  // stdin may still hold the process open in stdio mode.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`rpc-peer ${String(role)}: ${errorStack(err)}\n`);
    process.exit(1);
  },
);
