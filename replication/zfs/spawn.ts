/**
 * Starting `zfs` processes with node's child_process directly. A cron run over a tree starts
 * hundreds of short zfs commands; execa costs a few ms more CPU per process than spawn()
 * (docs/benchmarks.md), which adds up to most of a steady-state run's own CPU time.
 * execa stays where its conveniences pay (the ssh transport).
 */

import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { OWNER_ENV, ownerMark } from '../../platform/process-owner.js';

/** The C locale keeps messages in English, which the error classifier depends on. */
export const ZFS_ENV: Readonly<Record<string, string>> = { LC_ALL: 'C', LANG: 'C' };

const live = new Set<ChildProcess>();
/** Called once no zfs process of ours is left. */
const waitingForNone: Array<() => void> = [];
let exitHookInstalled = false;
/**
 * Built on first use, not per process: a run starts hundreds (zferry never changes its env).
 * Each child carries this process's mark (platform/process-owner.ts): one left running after
 * zferry was killed is found and ended by the next daemon or run.
 */
let childEnv: NodeJS.ProcessEnv | undefined;

/**
 * Starts `bin args`; the child is killed if this process exits while it runs. It runs in its
 * own process group: a terminal's Ctrl-C (SIGINT to the whole foreground group) would kill a
 * zfs-fuse client without stopping its transfer (and a killed `zfs send -I` leaks its holds),
 * so zferry alone decides how its zfs processes end (process.ts).
 */
export function spawnZfs(bin: string, args: readonly string[], stdio: StdioOptions): ChildProcess {
  childEnv ??= { ...process.env, ...ZFS_ENV, [OWNER_ENV]: ownerMark() };
  const child = spawn(bin, args, { stdio, env: childEnv, detached: true });
  live.add(child);
  const forget = (): void => {
    live.delete(child);
    if (live.size === 0) for (const resolve of waitingForNone.splice(0)) resolve();
  };
  child.once('close', forget);
  child.once('error', forget);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A zfs recv left behind would keep the target busy: take the children along.
    process.once('exit', () => {
      for (const running of live) running.kill('SIGTERM');
    });
  }
  return child;
}

/** Resolves once every zfs process started here is gone, or after `timeoutMs` at the latest. */
export function zfsProcessesGone(timeoutMs: number): Promise<void> {
  if (live.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    waitingForNone.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface ChildExit {
  exitCode: number | undefined;
  signal: string | undefined;
  /** Set when the process could not be started (missing binary, ...). */
  spawnError?: Error;
}

/** Resolves (never rejects) once the child is gone and its stdio is closed. */
export function childExited(child: ChildProcess): Promise<ChildExit> {
  return new Promise((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      // Only a failed start leaves no pid; later errors (a failed kill) change nothing here.
      if (child.pid === undefined) {
        spawnError = error;
        resolve({ exitCode: undefined, signal: undefined, spawnError });
      }
    });
    child.once('close', (code, signal) => {
      if (spawnError) return;
      resolve({ exitCode: code ?? undefined, signal: signal ?? undefined });
    });
  });
}

export interface CollectedRun extends ChildExit {
  stdout: string;
  stderr: string;
}

/** Runs to completion with stdin closed, collecting stdout and stderr (each up to `maxBytes`). */
export async function runCollecting(bin: string, args: readonly string[], maxBytes: number): Promise<CollectedRun> {
  const child = spawnZfs(bin, args, ['ignore', 'pipe', 'pipe']);
  let stdout = '';
  let stderr = '';
  let overflow = false;
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    if (stdout.length + chunk.length > maxBytes) {
      overflow = true;
      child.kill('SIGTERM');
      return;
    }
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < maxBytes) stderr += chunk.slice(0, maxBytes - stderr.length);
  });
  const exit = await childExited(child);
  if (overflow) stderr += `\nzferry: output of ${bin} exceeded ${maxBytes} bytes; stopped it`;
  return { ...exit, stdout, stderr };
}
