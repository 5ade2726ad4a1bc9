/**
 * The daemon benchmark reads a process's CPU time and memory from /proc: the parsers on lines
 * as the kernel writes them (a command name with spaces and parentheses included), and on this
 * very process's own files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseProcStat, parseStatusKiB, readProcess } from '../../../bench/daemon/proc.js';
import { summarizeUsage } from '../../../bench/daemon/usage.js';

// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
const STAT = '4242 (node) S 1 4242 4242 0 -1 4194560 3510 0 0 0 170 35 12 8 20 0 11 0 1234 1020000000 23000 18446744073709551615';

test('utime + stime and cutime + cstime are fields 14-17 of /proc/<pid>/stat', () => {
  assert.deepEqual(parseProcStat(STAT), { own: 205, children: 20 });
});

test('a command name with spaces and parentheses does not shift the fields', () => {
  const tricky = STAT.replace('(node)', '(zferry (daemon) x) y)');
  assert.deepEqual(parseProcStat(tricky), { own: 205, children: 20 });
});

test('a line that is not a stat line is refused, not read as zeros', () => {
  assert.throws(() => parseProcStat('no parentheses here'), /stat/);
  assert.throws(() => parseProcStat('1 (x) S 1 2'), /field 14/);
});

test('VmRSS and VmHWM come from /proc/<pid>/status in KiB', () => {
  const status = 'Name:\tnode\nVmPeak:\t 1000000 kB\nVmHWM:\t   98000 kB\nVmRSS:\t   93640 kB\nRssAnon:\t   50000 kB\n';
  assert.equal(parseStatusKiB(status, 'VmRSS'), 93640);
  assert.equal(parseStatusKiB(status, 'VmHWM'), 98000);
  assert.throws(() => parseStatusKiB('Name:\tkthreadd\n', 'VmRSS'), /VmRSS/);
});

test('this process, read live: the figures /proc gives are the ones the parsers return', async () => {
  const sample = await readProcess(process.pid);
  assert.ok(sample.rssKiB > 0);
  assert.ok(sample.peakRssKiB >= sample.rssKiB);
  const later = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
  assert.ok(later.own >= sample.cpu.own, 'CPU time never goes back');
  await assert.rejects(readProcess(2 ** 22 + 1), /has gone/);
});

test('a window: CPU as a share of one core from the first to the last sample, RSS max and mean', () => {
  const at = (atMs: number, own: number, children: number, rssKiB: number) => ({ atMs, cpu: { own, children }, rssKiB, peakRssKiB: 100_000 });
  // 100 ticks a second: 15 ticks (150 ms) of CPU over 10 s is 1.5 % of a core.
  const usage = summarizeUsage([at(0, 100, 7, 90_000), at(5000, 110, 7, 80_000), at(10_000, 115, 9, 70_000)], 100);
  assert.equal(usage.wallMs, 10_000);
  assert.equal(usage.cpuMs, 150);
  assert.equal(usage.childrenCpuMs, 20);
  assert.equal(usage.cpuPercent, 1.5);
  assert.equal(usage.rssMaxKiB, 90_000);
  assert.equal(usage.rssAvgKiB, 80_000);
  assert.equal(usage.rssFirstKiB, 90_000);
  assert.equal(usage.rssLastKiB, 70_000);
  assert.throws(() => summarizeUsage([at(0, 1, 1, 1)], 100), RangeError);
});
