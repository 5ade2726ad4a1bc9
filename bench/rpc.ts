/**
 * RPC benchmark: zferry's framed RPC against a raw baseline of the same transport, measured
 * in the same run (interleaved, median of several rounds), each side in its own process.
 *
 *   streams  a request stream of N GiB (handler counts bytes) vs. two plain processes writing
 *            1 MiB buffers with backpressure, over TCP loopback, a unix socket, and stdio
 *            through `cat` (node -> cat -> node, the shape of an ssh pipe)
 *   calls    small calls with 64 in flight over TCP: throughput, p50/p99 latency, alone and
 *            while a bulk stream runs on the same connection
 *
 * Usage: node dist/bench/rpc.js [--gib 2] [--rounds 5] [--call-seconds 3] [--in-flight 64]
 *                               [--transports tcp,unix,stdio]
 * Prints a table and one JSON summary line (last line of stdout). Next to throughput it shows
 * the CPU seconds each end spends per GiB, which stays meaningful on a busy machine.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { errorStack } from '../platform/errors.js';
import { nodeShellCommand, shellWord, spawnScript, spawnShell, waitExit } from './lib/node-script.js';
import { ReportReader, numberField } from './lib/report.js';
import type { Report } from './lib/report.js';
import { GIB, fixed, gibPerSecond, median, table } from './lib/stats.js';

type Transport = 'tcp' | 'unix' | 'stdio';
const TRANSPORTS: Transport[] = ['tcp', 'unix', 'stdio'];

const TARGETS = { streamRatio: 0.9, callsPerSecond: 50_000, p99UnderBulkMs: 10 };

const { values } = parseArgs({
  options: {
    gib: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '5' },
    'call-seconds': { type: 'string', default: '3' },
    'in-flight': { type: 'string', default: '64' },
    transports: { type: 'string', default: TRANSPORTS.join(',') },
  },
});
const streamBytes = Math.round(Number(values.gib) * GIB);
const rounds = Number(values.rounds);
const callSeconds = Number(values['call-seconds']);
const transports = values.transports.split(',').map((name) => {
  const transport = TRANSPORTS.find((t) => t === name);
  if (!transport) throw new Error(`--transports: unknown transport ${name} (known: ${TRANSPORTS.join(', ')})`);
  return transport;
});
const inFlight = Number(values['in-flight']);

/** Spawn a listening peer, return its reader and the address it reported. */
async function startListening(script: string, args: string[]): Promise<{ child: ChildProcess; reader: ReportReader; port: string }> {
  const child = spawnScript(script, args);
  const reader = new ReportReader(child);
  const listening = await reader.next('listening');
  return { child, reader, port: String(listening.listening) };
}

function listenArgs(transport: Transport, socketPath: string): string[] {
  return transport === 'tcp' ? ['tcp', '127.0.0.1', '0'] : ['unix', socketPath];
}

function connectArgs(transport: Transport, socketPath: string, port: string): string[] {
  return transport === 'tcp' ? ['tcp', '127.0.0.1', port] : ['unix', socketPath];
}

/** One stream transfer: wall time from the first write to the last byte counted, and CPU used. */
interface StreamRun {
  ms: number;
  senderCpuMs: number;
  receiverCpuMs: number;
}

async function rawStream(transport: Transport, dir: string): Promise<StreamRun> {
  if (transport === 'stdio') {
    const shell = spawnShell(
      `${nodeShellCommand('raw-peer', ['source', 'stdio', String(streamBytes)])} | cat | ${nodeShellCommand('raw-peer', ['sink', 'stdio'])}`,
    );
    const reader = new ReportReader(shell);
    const start = numberField(await reader.next('start'), 'start');
    const end = await reader.next('end');
    const senderCpuMs = numberField(await reader.next('senderCpuMs'), 'senderCpuMs');
    await waitExit(shell, 'raw stdio pipeline');
    return { ms: elapsed(start, end), senderCpuMs, receiverCpuMs: numberField(end, 'receiverCpuMs') };
  }
  const socketPath = path.join(dir, 'raw.sock');
  const sink = await startListening('raw-peer', ['sink', ...listenArgs(transport, socketPath)]);
  const source = spawnScript('raw-peer', ['source', ...connectArgs(transport, socketPath, sink.port), String(streamBytes)]);
  const sourceReader = new ReportReader(source);
  const start = numberField(await sourceReader.next('start'), 'start');
  const end = await sink.reader.next('end');
  const senderCpuMs = numberField(await sourceReader.next('senderCpuMs'), 'senderCpuMs');
  await Promise.all([waitExit(sink.child, 'raw sink'), waitExit(source, 'raw source')]);
  return { ms: elapsed(start, end), senderCpuMs, receiverCpuMs: numberField(end, 'receiverCpuMs') };
}

function elapsed(start: number, end: Report): number {
  const bytes = numberField(end, 'bytes');
  if (bytes !== streamBytes) throw new Error(`expected ${streamBytes} bytes, counted ${bytes}`);
  return numberField(end, 'end') - start;
}

/** Run one rpc-peer client scenario against a fresh server; returns the client's report. */
async function rpcScenario(transport: Transport, dir: string, scenario: string[], key: string): Promise<Report> {
  if (transport === 'stdio') {
    // client -> cat -> server, and server -> cat -> fifo -> client: both directions through cat.
    const fifo = path.join(dir, `fifo-${Date.now()}`);
    const client = nodeShellCommand('rpc-peer', ['client', 'stdio', ...scenario]);
    const server = nodeShellCommand('rpc-peer', ['server', 'stdio']);
    const f = shellWord(fifo);
    const shell = spawnShell(`mkfifo ${f} && ${client} < ${f} | cat | ${server} | cat > ${f}; status=$?; rm -f ${f}; exit $status`);
    const result = await new ReportReader(shell).next(key);
    await waitExit(shell, 'rpc stdio pipeline');
    return result;
  }
  const socketPath = path.join(dir, 'rpc.sock');
  const server = await startListening('rpc-peer', ['server', ...listenArgs(transport, socketPath)]);
  const client = spawnScript('rpc-peer', ['client', ...connectArgs(transport, socketPath, server.port), ...scenario]);
  const clientReader = new ReportReader(client);
  const result = await clientReader.next(key);
  await Promise.all([waitExit(client, 'rpc client'), waitExit(server.child, 'rpc server')]);
  return result;
}

async function rpcStream(transport: Transport, dir: string): Promise<StreamRun> {
  const result = await rpcScenario(transport, dir, ['upload', String(streamBytes)], 'end');
  return {
    ms: elapsed(numberField(result, 'start'), result),
    senderCpuMs: numberField(result, 'senderCpuMs'),
    receiverCpuMs: numberField(result, 'receiverCpuMs'),
  };
}

interface StreamFigures {
  gibPerSecond: number;
  /** CPU seconds per GiB moved, each end. */
  senderCpu: number;
  receiverCpu: number;
}

/** Medians over the rounds, each figure on its own. */
function streamFigures(runs: StreamRun[]): StreamFigures {
  const perGib = streamBytes / GIB;
  return {
    gibPerSecond: median(runs.map((r) => gibPerSecond(streamBytes, r.ms))),
    senderCpu: median(runs.map((r) => r.senderCpuMs / 1000 / perGib)),
    receiverCpu: median(runs.map((r) => r.receiverCpuMs / 1000 / perGib)),
  };
}

interface CallFigures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  bulkGiBps?: number;
}

async function callRun(withBulk: boolean, dir: string): Promise<CallFigures> {
  const r = await rpcScenario('tcp', dir, [withBulk ? 'calls-bulk' : 'calls', String(callSeconds), String(inFlight)], 'calls');
  const figures: CallFigures = {
    perSecond: numberField(r, 'calls') / numberField(r, 'seconds'),
    p50Ms: numberField(r, 'p50'),
    p99Ms: numberField(r, 'p99'),
    maxMs: numberField(r, 'max'),
  };
  if (withBulk) figures.bulkGiBps = gibPerSecond(numberField(r, 'bulkBytes'), numberField(r, 'bulkMs'));
  return figures;
}

/** The run with the median throughput, so the figures of one row belong together. */
function medianRun(runs: CallFigures[]): CallFigures {
  const sorted = [...runs].sort((a, b) => a.perSecond - b.perSecond);
  const chosen = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!chosen) throw new Error('no call runs');
  return chosen;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-bench-rpc-'));
  try {
    process.stdout.write(
      `zferry RPC benchmark: ${fixed(streamBytes / GIB, 1)} GiB streams, ${rounds} rounds (median), ${os.cpus().length} CPUs, node ${process.version}\n`,
    );
    const raw: Record<Transport, StreamRun[]> = { tcp: [], unix: [], stdio: [] };
    const rpc: Record<Transport, StreamRun[]> = { tcp: [], unix: [], stdio: [] };
    for (let round = 0; round < rounds; round++) {
      for (const transport of transports) {
        // Interleaved, so that a slow phase of the machine hits both sides alike.
        const rawRun = await rawStream(transport, dir);
        const rpcRun = await rpcStream(transport, dir);
        raw[transport].push(rawRun);
        rpc[transport].push(rpcRun);
        // Per round on stderr: the spread behind each median.
        process.stderr.write(
          `round ${round + 1} ${transport}: raw ${fixed(gibPerSecond(streamBytes, rawRun.ms))} GiB/s, zferry ${fixed(gibPerSecond(streamBytes, rpcRun.ms))} GiB/s\n`,
        );
      }
    }
    const streams = Object.fromEntries(
      transports.map((t) => {
        const rawFigures = streamFigures(raw[t]);
        const rpcFigures = streamFigures(rpc[t]);
        return [t, { raw: rawFigures, rpc: rpcFigures, ratio: rpcFigures.gibPerSecond / rawFigures.gibPerSecond }];
      }),
    ) as Record<Transport, { raw: StreamFigures; rpc: StreamFigures; ratio: number }>;

    const alone: CallFigures[] = [];
    const underBulk: CallFigures[] = [];
    for (let round = 0; round < rounds; round++) {
      alone.push(await callRun(false, dir));
      underBulk.push(await callRun(true, dir));
    }
    const calls = { alone: medianRun(alone), underBulk: medianRun(underBulk) };

    const streamRows = transports.map((t) => {
      const s = streams[t];
      return [
        t === 'stdio' ? 'stdio (node->cat->node)' : t,
        fixed(s.raw.gibPerSecond),
        fixed(s.rpc.gibPerSecond),
        fixed(s.ratio),
        s.ratio >= TARGETS.streamRatio ? 'ok' : 'BELOW',
        `${fixed(s.raw.senderCpu)} / ${fixed(s.rpc.senderCpu)}`,
        `${fixed(s.raw.receiverCpu)} / ${fixed(s.rpc.receiverCpu)}`,
      ];
    });
    process.stdout.write(`\nStreams (GiB/s, target zferry/raw >= ${TARGETS.streamRatio}; CPU s/GiB raw / zferry)\n`);
    process.stdout.write(`${table([['transport', 'raw', 'zferry', 'ratio', '', 'sender CPU', 'receiver CPU'], ...streamRows])}\n`);

    const callRow = (label: string, c: CallFigures): string[] => [
      label,
      Math.round(c.perSecond).toLocaleString('en-US'),
      fixed(c.p50Ms, 3),
      fixed(c.p99Ms, 3),
      fixed(c.maxMs, 1),
      c.bulkGiBps === undefined ? '-' : fixed(c.bulkGiBps),
    ];
    process.stdout.write(
      `\nSmall calls over tcp, ${inFlight} in flight, ${callSeconds} s (targets: >= ${TARGETS.callsPerSecond.toLocaleString('en-US')}/s; p99 under bulk <= ${TARGETS.p99UnderBulkMs} ms)\n`,
    );
    process.stdout.write(
      `${table([['', 'calls/s', 'p50 ms', 'p99 ms', 'max ms', 'bulk GiB/s'], callRow('alone', calls.alone), callRow('during a bulk stream', calls.underBulk)])}\n`,
    );

    const met = {
      streams: transports.every((t) => streams[t].ratio >= TARGETS.streamRatio),
      calls: calls.alone.perSecond >= TARGETS.callsPerSecond,
      p99UnderBulk: calls.underBulk.p99Ms <= TARGETS.p99UnderBulkMs,
    };
    const round2 = (n: number): number => Math.round(n * 1000) / 1000;
    const summary = {
      bench: 'rpc',
      streamGiB: streamBytes / GIB,
      rounds,
      streams: Object.fromEntries(
        transports.map((t) => {
          const s = streams[t];
          return [
            t,
            {
              raw: round2(s.raw.gibPerSecond),
              zferry: round2(s.rpc.gibPerSecond),
              ratio: round2(s.ratio),
              cpuPerGiB: {
                rawSender: round2(s.raw.senderCpu),
                zferrySender: round2(s.rpc.senderCpu),
                rawReceiver: round2(s.raw.receiverCpu),
                zferryReceiver: round2(s.rpc.receiverCpu),
              },
            },
          ];
        }),
      ),
      calls: {
        alone: { perSecond: Math.round(calls.alone.perSecond), p50Ms: round2(calls.alone.p50Ms), p99Ms: round2(calls.alone.p99Ms) },
        underBulk: {
          perSecond: Math.round(calls.underBulk.perSecond),
          p50Ms: round2(calls.underBulk.p50Ms),
          p99Ms: round2(calls.underBulk.p99Ms),
          bulkGiBps: round2(calls.underBulk.bulkGiBps ?? Number.NaN),
        },
      },
      targets: TARGETS,
      met,
    };
    process.stdout.write(`\n${JSON.stringify(summary)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/rpc: ${errorStack(err)}\n`);
  process.exit(1);
});
