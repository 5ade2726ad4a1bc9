/**
 * The daemon benchmark's verdicts: medians over the repetitions, ratios daemon / push -r, and
 * the limits (1 % of a core, 80 MB, 1.05×) applied on the right side of each line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLimits, daemonJsonSummary, renderDaemonReport, steadyMedians } from '../../../bench/daemon/report.js';
import { parseDaemonBenchOptions } from '../../../bench/daemon/options.js';
import type { IdleResult } from '../../../bench/daemon/idle.js';
import type { SteadyResult } from '../../../bench/daemon/steady.js';
import type { UsageSummary } from '../../../bench/daemon/usage.js';

function usage(cpuPercent: number, rssMaxKiB: number): UsageSummary {
  const wallMs = 150_000;
  return {
    wallMs,
    cpuMs: (cpuPercent / 100) * wallMs,
    childrenCpuMs: 0,
    cpuPercent,
    rssMaxKiB,
    rssFirstKiB: rssMaxKiB,
    rssLastKiB: rssMaxKiB,
    rssAvgKiB: rssMaxKiB,
    samples: 151,
  };
}

function idle(cpuPercent: number, rssMaxKiB: number): IdleResult {
  return {
    jobs: 10,
    interval: '1m',
    firstRoundMs: 2000,
    daemon: usage(cpuPercent, rssMaxKiB),
    baseline: usage(0, 40_000),
    daemonPeakRssKiB: rssMaxKiB,
    daemonRssSeries: [{ atSeconds: 0, rssKiB: rssMaxKiB }],
    invocationsInWindow: 20,
    notOkInWindow: 0,
    skippedTicksInWindow: 0,
  };
}

function steady(pairs: Array<[push: number, daemon: number]>): SteadyResult {
  return {
    filesystems: 51,
    snapshotsAtStart: 6,
    daemonPeakRssKiB: 100_000,
    reps: pairs.map(([push, daemon], i) => ({
      order: i % 2 === 0 ? ['push', 'daemon'] : ['daemon', 'push'],
      push: { wallMs: push + 100, runMs: push, cpuMs: 800 },
      daemon: { wallMs: daemon + 20, runMs: daemon, invocationMs: daemon + 10, cpuMs: undefined },
    })),
  };
}

test('medians per contender, then daemon / push -r for each measure', () => {
  const m = steadyMedians(
    steady([
      [2000, 2100],
      [1000, 5000],
      [3000, 1900],
    ]),
  );
  assert.equal(m.push.runMs, 2000);
  assert.equal(m.daemon.runMs, 2100);
  assert.equal(m.ratio.run, 1.05);
  assert.equal(m.daemon.invocationMs, 2110);
  assert.equal(m.push.invocationMs, undefined);
  assert.equal(m.push.wallMs, 2100);
  assert.equal(m.daemon.wallMs, 2120);
  assert.equal(m.push.cpuMs, 800);
  assert.equal(m.daemon.cpuMs, undefined, 'no CPU figure: no ratio');
  assert.equal(m.ratio.cpu, undefined);
});

test('limits: at the line is met, beyond it missed', () => {
  const verdicts = (results: Parameters<typeof checkLimits>[0]) => checkLimits(results).map((check) => check.met);
  // 80 MB = 78,125 KiB.
  assert.deepEqual(verdicts({ idle: idle(1, 78_125) }), [true, true]);
  assert.deepEqual(verdicts({ idle: idle(1.01, 78_126) }), [false, false]);
  assert.deepEqual(verdicts({ steady: steady([[2000, 2100]]) }), [true, true]);
  assert.deepEqual(verdicts({ steady: steady([[2000, 2101]]) }), [false, true]);
  assert.deepEqual(verdicts({}), []);
});

test('options: defaults, --idle-seconds and --reps in range, experiments for the daemon', () => {
  const defaults = parseDaemonBenchOptions([]);
  assert.ok(defaults !== 'help');
  assert.equal(defaults.idleSeconds, 150);
  assert.equal(defaults.reps, 5);
  assert.equal(defaults.idleJobs, 10);
  assert.equal(defaults.tree.treeDatasets + 1, 51);
  const chosen = parseDaemonBenchOptions(['--idle-seconds', '30', '--reps=3', '--node-arg=--incremental-marking', '--skip-idle']);
  assert.ok(chosen !== 'help');
  assert.deepEqual(
    [chosen.idleSeconds, chosen.reps, chosen.daemonNodeArgs, chosen.skipIdle, chosen.skipSteady],
    [30, 3, ['--incremental-marking'], true, false],
  );
  assert.throws(() => parseDaemonBenchOptions(['--reps', '0']), /--reps must be an integer from 1/);
  assert.throws(() => parseDaemonBenchOptions(['--idle-seconds', '1.5']), /--idle-seconds/);
  assert.throws(() => parseDaemonBenchOptions(['--bogus']), /bogus/);
  assert.equal(parseDaemonBenchOptions(['-h']), 'help');
});

test('the table: every figure under its own heading; the JSON line holds the medians, ratios and verdicts', () => {
  const results = {
    idle: idle(0.1, 70_000),
    steady: steady([
      [2000, 2100],
      [1000, 5000],
      [3000, 1900],
    ]),
  };
  const text = renderDaemonReport(['a note'], results, checkLimits(results));
  const lines = text.split('\n');
  const header = lines.find((line) => line.includes('contender')) ?? '';
  const push = lines.find((line) => line.includes('zferry push -r')) ?? '';
  const daemon = lines.find((line) => line.includes('daemon push job')) ?? '';
  // Column starts: a value sits where its heading starts.
  assert.equal(push.indexOf('2.10 s'), header.indexOf('wall'));
  assert.equal(push.indexOf('2.00 s'), header.indexOf('run'));
  assert.equal(daemon.indexOf('2.11 s'), header.indexOf('invocation'));
  assert.equal(push.indexOf('0.80 s'), header.indexOf('CPU'));
  const usageHeader = lines.find((line) => line.includes('CPU % of a core')) ?? '';
  const usageRow = lines.find((line) => line.includes('zferry daemon')) ?? '';
  assert.equal(usageRow.indexOf('0.100 %'), usageHeader.indexOf('CPU % of a core'));
  assert.equal(usageRow.indexOf('71.7 MB'), usageHeader.indexOf('RSS max'));
  assert.match(text, /- a note/);

  const json = JSON.parse(daemonJsonSummary(['a note'], results, checkLimits(results))) as {
    steady: { median: { daemon: { runMs: number; invocationMs: number } }; ratio: { run: number } };
    limits: { met: boolean }[];
  };
  assert.equal(json.steady.median.daemon.runMs, 2100);
  assert.equal(json.steady.median.daemon.invocationMs, 2110);
  assert.equal(json.steady.ratio.run, 1.05);
  assert.deepEqual(
    json.limits.map((limit) => limit.met),
    [true, true, true, true],
  );
});
