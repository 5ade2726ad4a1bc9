/**
 * Long-running processes of the benchmark (the daemon, the bare node baseline), each in its
 * own process group and remembered until it exits: stopAllProcesses() ends them on the way out
 * (SIGTERM, then SIGKILL after a grace period), and a process `exit` hook SIGKILLs whatever is
 * left when nothing asynchronous can run any more.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchSetupError } from '../replication/errors.js';

export interface TrackedProcess {
  readonly pid: number;
  readonly label: string;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly hasExited: boolean;
  /** Every line written to stderr so far (when stderr is piped). */
  stderrLines(): readonly string[];
  /** SIGTERM to the process, SIGKILL to its group after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  label: string;
  env?: NodeJS.ProcessEnv;
  /** Keep its stderr (lines); otherwise it goes nowhere. */
  captureStderr?: boolean;
  /** Called with each stderr line as it arrives. */
  onStderrLine?: (line: string) => void;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

export function spawnTracked(argv: readonly string[], options: SpawnOptions): TrackedProcess {
  installExitHook();
  const [bin, ...args] = argv;
  if (bin === undefined) throw new TypeError('spawnTracked: empty argv');
  const child = spawn(bin, args, {
    stdio: ['ignore', 'ignore', options.captureStderr ? 'pipe' : 'ignore'],
    env: options.env ?? process.env,
    detached: true,
  });
  const { pid } = child;
  if (pid === undefined) throw new BenchSetupError(`${options.label} did not start: ${argv.join(' ')}`);
  live.add(child);
  const lines: string[] = [];
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      options.onStderrLine?.(line);
    }
  });
  let hasExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', () => {
      hasExited = true;
      live.delete(child);
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      hasExited = true;
      live.delete(child);
      resolve({ code, signal });
    });
  });
  return {
    pid,
    label: options.label,
    exited,
    get hasExited() {
      return hasExited;
    },
    stderrLines: () => (partial === '' ? lines : [...lines, partial]),
    stop: (graceMs = 15_000) => stopProcess(child, exited, graceMs),
  };
}

async function stopProcess(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    child.kill('SIGTERM');
  } catch {
    // Already gone.
  }
  const inTime = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!inTime) {
    killGroup(child.pid);
    await exited;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Stops every process still running (all at once); for the way out. */
export async function stopAllProcesses(graceMs?: number): Promise<void> {
  await Promise.allSettled(
    [...live].map((child) =>
      stopProcess(
        child,
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve(undefined);
          else child.once('exit', resolve);
        }),
        graceMs ?? 15_000,
      ),
    ),
  );
}

/**
 * SIGKILLs what is left on process exit. Install it before the pools' hook (pools.ts) so that
 * processes using a pool are gone when that one destroys the pools.
 */
export function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) if (child.pid !== undefined) killGroup(child.pid);
  });
}
