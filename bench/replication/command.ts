/**
 * Runs the commands the benchmark times (zfs, bash scripts, zferry, syncoid) and remembers the
 * live ones, so an interrupted run can stop them. Each command gets its own process group:
 * tools like syncoid start pipelines of their own, and stopping the group stops all of them.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { CommandFailedError } from './errors.js';

/** zfs messages are parsed in English. */
const C_LOCALE = { LC_ALL: 'C', LANG: 'C' };

export interface CommandOptions {
  /** Added to the benchmark's own environment. */
  env?: Readonly<Record<string, string>>;
}

export interface CommandResult {
  argv: readonly string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock time from spawn to exit, in milliseconds. */
  ms: number;
}

const live = new Set<ChildProcess>();

/** Runs a command to completion; never throws for a non-zero exit (see checkCommand). */
export function runCommand(argv: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const [bin, ...args] = argv;
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

/** Stops every command still running (their whole process groups). For the interrupt path. */
export function stopLiveCommands(signal: NodeJS.Signals = 'SIGTERM'): number {
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
