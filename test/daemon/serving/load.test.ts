/**
 * Load (#18): one real sink daemon serving over mutual TLS, and 16 real client processes
 * (`zferry run JOB --config FILE`, each with its own certificate, CN = its identity, and its own
 * state dir) pushing their own filesystems to it at once. All complete and land by guid below
 * root_fs/<identity>; each client's wall time is within 2× of the median (the issue asks for
 * exactly this); the sink's peak RSS (VmRSS sampled every 100 ms) stays under 200 MB; its status,
 * polled during the run, listed every identity among its connections, and its /metrics has an
 * open-connections series for each.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startZferry, type CliResult } from '../../helpers/cli.js';
import { daemonDir, daemonReady, startDaemon, type DaemonDir, type RunningDaemon } from '../../helpers/daemon-process.js';
import { freePort } from '../../helpers/free-port.js';
import { httpGet, samplesOf } from '../../helpers/prometheus-text.js';
import { createTestCa, type TestCa } from '../../helpers/tls-ca.js';
import { createDataset, listSnapshots, snapshot, usePool, writeFile as writeDataset } from '../../helpers/zfs-pool.js';

const CLIENTS = Array.from({ length: 16 }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
const RSS_LIMIT_BYTES = 200 * 1000 * 1000;
const MIB = 1024 * 1024;

interface Client {
  identity: string;
  dir: DaemonDir;
  filesystem: string;
}

interface ClientRun {
  identity: string;
  ms: number;
  result: CliResult;
}

async function guids(filesystem: string): Promise<Record<string, string>> {
  return Object.fromEntries((await listSnapshots(filesystem)).map((s) => [s.name, s.guid]));
}

/** `zferry run --json`'s summary; undefined when stdout is not one (the failure message shows it). */
function summaryOf(result: CliResult): { outcome?: string; runs?: { durationMs: number }[] } | undefined {
  try {
    return JSON.parse(result.stdout) as { outcome?: string; runs?: { durationMs: number }[] };
  } catch {
    return undefined;
  }
}

/** VmRSS of a live process in bytes; undefined once it is gone. */
function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Calls `sample` every `everyMs` until the returned stop function is called (and awaited). */
function every(everyMs: number, sample: () => Promise<void> | void): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await sample();
      await sleep(everyMs);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

describe('16 clients pushing at once over mutual TLS to one sink daemon', () => {
  // 16 × (3 MiB + 1 MiB) on each side, with room for zfs-fuse's metadata.
  const src = usePool({ sizeMiB: 256 });
  const dst = usePool({ sizeMiB: 256 });
  let ca: TestCa;
  let sinkDir: DaemonDir;
  let sink: RunningDaemon | undefined;
  let sinkRoot = '';
  let metricsPort = 0;
  const clients: Client[] = [];

  before(async () => {
    ca = await createTestCa();
    sinkDir = await daemonDir();
    const data = await createDataset(src.pool.dataset('data'));
    sinkRoot = await createDataset(dst.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    const [sinkPort, port] = await Promise.all([freePort(), freePort()]);
    metricsPort = port;
    await sinkDir.writeConfig(
      [
        '  monitoring:',
        '    - type: prometheus',
        `      listen: "127.0.0.1:${metricsPort}"`,
        'jobs:',
        '  - name: backups',
        '    type: sink',
        `    root_fs: ${sinkRoot}`,
        '    serve:',
        '      type: tls',
        `      listen: "127.0.0.1:${sinkPort}"`,
        `      ca: ${ca.caCertPath}`,
        `      cert: ${ca.server.certPath}`,
        `      key: ${ca.server.keyPath}`,
        `      client_cns: [${CLIENTS.join(', ')}]`,
        '',
      ].join('\n'),
    );
    for (const identity of CLIENTS) {
      const filesystem = await createDataset(`${data}/${identity}`);
      await writeDataset(filesystem, 'a.bin', 3 * MIB);
      await snapshot(`${filesystem}@s1`);
      await writeDataset(filesystem, 'b.bin', 1 * MIB);
      await snapshot(`${filesystem}@s2`);
      const certificate = await ca.issueClient(identity);
      const dir = await daemonDir();
      await dir.writeConfig(
        [
          'jobs:',
          `  - name: push-${identity}`,
          '    type: push',
          '    connect:',
          '      type: tls',
          `      address: "127.0.0.1:${sinkPort}"`,
          `      ca: ${ca.caCertPath}`,
          `      cert: ${certificate.certPath}`,
          `      key: ${certificate.keyPath}`,
          '      server_cn: localhost',
          `    filesystems: {"${filesystem}": true}`,
          '    snapshotting: {type: manual}',
          '    interval: 1h',
          '    conflict_resolution: {initial_replication: all}',
          '',
        ].join('\n'),
      );
      clients.push({ identity, dir, filesystem });
    }
  });

  after(async () => {
    if (sink && !sink.process.exited) await sink.stop();
    await sinkDir?.remove();
    for (const client of clients) await client.dir.remove();
    await ca?.cleanup();
  });

  test('all complete and verify, in similar times, within the memory bound; status and metrics show all 16', async (t) => {
    sink = startDaemon(sinkDir);
    const running = sink;
    await daemonReady(running);

    let peakRss = 0;
    const stopRss = every(100, () => {
      peakRss = Math.max(peakRss, residentBytes(running.pid) ?? 0);
    });
    const seenInStatus = new Set<string>();
    const stopStatus = every(100, async () => {
      const status = await running.status().catch(() => undefined);
      for (const connection of status?.connections ?? []) if (connection.job === 'backups') seenInStatus.add(connection.identity);
    });

    let runs: ClientRun[];
    try {
      runs = await Promise.all(
        clients.map(async ({ identity, dir }): Promise<ClientRun> => {
          const started = performance.now();
          const result = await startZferry(['run', `push-${identity}`, '--config', dir.configFile, '--json']).result;
          return { identity, ms: performance.now() - started, result };
        }),
      );
    } finally {
      await stopRss();
      await stopStatus();
    }

    t.diagnostic(`client wall times: ${runs.map((run) => `${run.identity} ${Math.round(run.ms)} ms`).join(', ')}`);
    const jobMs = (run: ClientRun): number => summaryOf(run.result)?.runs?.[0]?.durationMs ?? NaN;
    t.diagnostic(`their jobs' own durations: ${runs.map((run) => `${run.identity} ${jobMs(run)} ms`).join(', ')}`);
    t.diagnostic(`sink peak RSS ${(peakRss / MIB).toFixed(1)} MiB; identities seen in status: ${seenInStatus.size}`);
    for (const { identity, result } of runs) {
      assert.equal(result.exitCode, 0, `client ${identity} exited ${result.exitCode}; its stderr:\n${result.stderr}\nstdout:\n${result.stdout}`);
      const outcome = summaryOf(result)?.outcome;
      assert.equal(outcome, 'ok', `client ${identity}: outcome ${outcome}; its stderr:\n${result.stderr}`);
    }
    for (const { identity, filesystem } of clients) {
      const source = await guids(filesystem);
      assert.deepEqual(Object.keys(source), ['s1', 's2']);
      assert.deepEqual(
        await guids(`${sinkRoot}/${identity}/${filesystem}`),
        source,
        `client ${identity}: landed below root_fs/${identity} with the sender guids`,
      );
    }

    // The issue's fairness bound: no client took more than twice, or less than half, the median;
    // as a process (start to exit, mostly Node's start-up here) and in its job's own replication time.
    const withinTwiceMedian = (what: string, measure: (run: ClientRun) => number): void => {
      const middle = median(runs.map(measure));
      for (const run of runs) {
        const ms = measure(run);
        assert.ok(ms <= 2 * middle && ms >= middle / 2, `client ${run.identity}: ${what} ${Math.round(ms)} ms, the median ${Math.round(middle)} ms`);
      }
    };
    withinTwiceMedian('wall time', (run) => run.ms);
    withinTwiceMedian("its job's duration", jobMs);

    assert.ok(peakRss > 0, 'the sink was sampled');
    assert.ok(peakRss < RSS_LIMIT_BYTES, `the sink's peak RSS ${(peakRss / MIB).toFixed(1)} MiB stays under 200 MB`);

    assert.deepEqual([...seenInStatus].sort(), CLIENTS, 'status listed every identity among its connections during the run');
    const metrics = (await httpGet(`http://127.0.0.1:${metricsPort}/metrics`)).body;
    for (const identity of CLIENTS) {
      const series = samplesOf(metrics, 'zferry_open_connections', { zferry_job: 'backups', identity, transport: 'tls' });
      assert.equal(series.length, 1, `an open-connections series for ${identity}`);
      assert.equal(series[0]?.value, 0, `${identity}: its connection closed once its push ended`);
    }
    assert.deepEqual((await running.status()).connections, [], 'no connection left open');
  });
});
