/**
 * One run of a hook command: spawned without a shell in a process group of its own, with the
 * daemon's environment plus the hook's variables, optional bytes on stdin, and a timeout. At
 * the timeout (or when the caller's signal fires) the whole group gets SIGTERM, then SIGKILL
 * after a grace period: a hook that hangs, or left a `sleep 100 &` behind, leaves nothing
 * running. When the command itself exits, whatever it left in its group is ended as well (a
 * hook that should start a lasting service uses setsid). stdout and stderr are kept together,
 * in the order they arrive, up to a cap; the rest is counted. Should this process exit while
 * hooks run (the daemon's shutdown deadline), their groups are killed with it: a detached group
 * would outlive it otherwise.
 */
import { spawn } from 'node:child_process';

/** Output kept per run (the rest is counted, not kept). */
export const HOOK_OUTPUT_CAP_BYTES = 64 * 1024;
/** Between SIGTERM and SIGKILL to the hook's process group. */
export const HOOK_KILL_GRACE_MS = 2000;

export interface HookCommand {
  path: string;
  args: readonly string[];
  timeoutMs: number;
}

export interface HookProcessOptions {
  /** Added to the daemon's environment. */
  env: Readonly<Record<string, string>>;
  /** Written to the hook's stdin, which is then closed (empty when absent). */
  stdin?: string;
  /** Ends the hook's group early (an invocation stopped). */
  signal?: AbortSignal;
  outputCapBytes?: number;
  killGraceMs?: number;
}

export type HookProcessOutcome = 'ok' | 'failed' | 'timeout' | 'aborted' | 'spawn-failed';

export interface HookProcessResult {
  outcome: HookProcessOutcome;
  /** The command's exit code, when it exited by itself. */
  exitCode?: number;
  /** The signal that ended the command, when one did. */
  exitSignal?: string;
  /** stdout and stderr together, at most the cap. */
  output: string;
  /** Output bytes beyond the cap (not kept). */
  droppedBytes: number;
  durationMs: number;
  /** Why it could not start (spawn-failed): ENOENT, EACCES, … */
  spawnError?: string;
}

/** The process groups of the hooks running now. */
const running = new Set<number>();
let exitHandlerInstalled = false;

function killRunningOnExit(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const pid of running) killGroup(pid, 'SIGKILL');
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** Runs `command` once; never rejects (a command that cannot start is `spawn-failed`). */
export function runHookProcess(command: HookCommand, options: HookProcessOptions): Promise<HookProcessResult> {
  const started = performance.now();
  const cap = options.outputCapBytes ?? HOOK_OUTPUT_CAP_BYTES;
  const grace = options.killGraceMs ?? HOOK_KILL_GRACE_MS;
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let droppedBytes = 0;
  const collect = (chunk: Buffer): void => {
    const room = cap - keptBytes;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      kept.push(part);
      keptBytes += part.length;
    }
    droppedBytes += Math.max(0, chunk.length - Math.max(0, room));
  };

  return new Promise((resolve) => {
    let stoppedBy: 'timeout' | 'aborted' | undefined;
    let spawnError: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const child = spawn(command.path, [...command.args], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    const stop = (why: 'timeout' | 'aborted'): void => {
      if (stoppedBy !== undefined) return;
      stoppedBy = why;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), grace);
    };
    if (child.pid !== undefined) {
      killRunningOnExit();
      running.add(child.pid);
    }
    const timer = setTimeout(() => stop('timeout'), command.timeoutMs);
    const onAbort = (): void => stop('aborted');
    options.signal?.addEventListener('abort', onAbort);
    if (options.signal?.aborted === true) onAbort();

    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    // A hook that does not read its stdin closes it early: that is its business, not an error.
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
    // Its leftovers would keep the pipes open (and run on): the hook is over when its command exits.
    child.on('exit', () => {
      killGroup(child.pid, 'SIGTERM');
      killTimer ??= setTimeout(() => killGroup(child.pid, 'SIGKILL'), grace);
    });
    child.on('error', (error) => {
      spawnError = error.message;
    });
    child.on('close', (code, signal) => {
      if (child.pid !== undefined) running.delete(child.pid);
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      const outcome: HookProcessOutcome = spawnError !== undefined && child.pid === undefined ? 'spawn-failed' : (stoppedBy ?? (code === 0 ? 'ok' : 'failed'));
      resolve({
        outcome,
        ...(code !== null && outcome !== 'spawn-failed' ? { exitCode: code } : {}),
        ...(signal !== null ? { exitSignal: signal } : {}),
        output: Buffer.concat(kept).toString('utf8'),
        droppedBytes,
        durationMs: Math.round(performance.now() - started),
        ...(spawnError !== undefined ? { spawnError } : {}),
      });
    });
  });
}
