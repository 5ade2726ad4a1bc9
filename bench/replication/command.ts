/**
 * Runs the commands the benchmark times (zfs, bash scripts, zferry, syncoid) and remembers the
 * live ones, so an interrupted run can stop them. Each command gets its own process group:
 * tools like syncoid start pipelines of their own, and stopping the group stops all of them.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommandFailedError } from './errors.js';

/** zfs messages are parsed in English. */
const C_LOCALE = { LC_ALL: 'C', LANG: 'C' };

export interface CommandOptions {
  /** Added to the benchmark's own environment. */
  env?: Readonly<Record<string, string>>;
  /**
   * Also measure the CPU time (user + system) of the command and all its descendants that
   * it waited for, with GNU time. Not the zfs-fuse daemon's, nor a remote side's.
   */
  cpu?: boolean;
}

export interface CommandResult {
  argv: readonly string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock time from spawn to exit, in milliseconds. */
  ms: number;
  /** User + system CPU time of the command's process tree, when asked for and available. */
  cpuMs?: number;
}

/** GNU time: reports the rusage of the command and its waited-for descendants. */
const GNU_TIME = '/usr/bin/time';
/** Without it (package `time`), runs just have no CPU figure. */
const gnuTimeAvailable = existsSync(GNU_TIME);

const live = new Set<ChildProcess>();

/** Runs a command to completion; never throws for a non-zero exit (see checkCommand). */
export async function runCommand(argv: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  if (!options.cpu || !gnuTimeAvailable) return spawnCommand(argv, argv, options);
  const cpuFile = path.join(os.tmpdir(), `zferry-bench-cpu-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const result = await spawnCommand([GNU_TIME, '-q', '-f', '%U %S', '-o', cpuFile, ...argv], argv, options);
    const [user, system] = (await readFile(cpuFile, 'utf8').catch(() => '')).trim().split(/\s+/).map(Number);
    if (user !== undefined && system !== undefined && Number.isFinite(user) && Number.isFinite(system)) result.cpuMs = (user + system) * 1000;
    return result;
  } finally {
    await rm(cpuFile, { force: true });
  }
}

function spawnCommand(spawned: readonly string[], argv: readonly string[], options: CommandOptions): Promise<CommandResult> {
  const [bin, ...args] = spawned;
  if (bin === undefined) throw new TypeError('runCommand: empty argv');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...C_LOCALE, ...options.env },
      detached: true,
    });
    live.add(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error) => {
      live.delete(child);
      reject(new CommandFailedError(result(null, null), { cause: error }));
    });
    child.once('close', (code, signal) => {
      live.delete(child);
      resolve(result(code, signal));
    });
    function result(exitCode: number | null, signal: NodeJS.Signals | null): CommandResult {
      return {
        argv,
        exitCode,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        ms: performance.now() - started,
      };
    }
  });
}

/** Runs a command and throws CommandFailedError (with its stderr) unless it exits 0. */
export async function checkCommand(argv: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const result = await runCommand(argv, options);
  if (result.exitCode !== 0) throw new CommandFailedError(result);
  return result;
}

/** Runs a bash script with `set -euo pipefail`: every stage of every pipeline must succeed. */
export function checkScript(script: string, options: CommandOptions = {}): Promise<CommandResult> {
  return checkCommand(['bash', '-c', `set -euo pipefail\n${script}`], options);
}

let stopping = false;

/** True once stopLiveCommands() ran: failures from then on are the interrupt, not the tool. */
export function stoppingCommands(): boolean {
  return stopping;
}

/** Stops every command still running (their whole process groups). For the interrupt path. */
export function stopLiveCommands(signal: NodeJS.Signals = 'SIGTERM'): number {
  stopping = true;
  let stopped = 0;
  for (const child of live) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(-child.pid, signal);
      stopped += 1;
    } catch {
      // Already gone.
    }
  }
  return stopped;
}

/** A shell word: safe characters stay bare, anything else is single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function shellLine(argv: readonly string[]): string {
  return argv.map(shellWord).join(' ');
}
