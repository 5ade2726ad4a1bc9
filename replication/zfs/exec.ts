/**
 * Runs `zfs`/`zpool` with argument arrays (never a shell) and turns failures into typed errors.
 */

import type { Logger } from 'pino';
import { classifyZfsError, ZfsUnknownError, type ZfsError } from './errors.js';
import { runCollecting } from './spawn.js';
import { subcommandOf, tell, type ZfsCommandObserver } from './command-observer.js';

export { ZFS_ENV } from './spawn.js';

export interface RunResult {
  command: readonly string[];
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  /** Set when the process could not be started at all (missing binary, ...). */
  spawnError?: Error;
}

export interface ZfsExecOptions {
  zfsBin: string;
  zpoolBin: string;
  logger: Logger;
  /** Told of every command once it ended (metrics). */
  onCommand?: ZfsCommandObserver;
}

export class ZfsExec {
  readonly zfsBin: string;
  readonly zpoolBin: string;
  readonly logger: Logger;
  readonly onCommand: ZfsCommandObserver | undefined;

  constructor(options: ZfsExecOptions) {
    this.zfsBin = options.zfsBin;
    this.zpoolBin = options.zpoolBin;
    this.logger = options.logger;
    this.onCommand = options.onCommand;
  }

  /**
   * Runs a command to completion and reports the outcome without throwing. `observed: false`
   * keeps it from the command observer (capability probes: they fail on purpose).
   */
  async run(bin: string, args: readonly string[], { observed = true }: { observed?: boolean } = {}): Promise<RunResult> {
    const command = [bin, ...args];
    const started = performance.now();
    const result = await runCollecting(bin, args, 256 * 1024 * 1024);
    const elapsed = performance.now() - started;
    const ms = Math.round(elapsed);
    if (observed) tell(this.onCommand, { subcommand: subcommandOf(bin, args, this.zpoolBin), durationMs: elapsed, ok: result.exitCode === 0 });
    const out: RunResult = { command, exitCode: result.exitCode, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
    if (result.spawnError) out.spawnError = result.spawnError;
    this.logger.debug({ cmd: command, exitCode: out.exitCode, ms }, 'zfs command');
    return out;
  }

  /** Runs a command and returns stdout; throws a typed ZfsError on failure. */
  async check(bin: string, args: readonly string[]): Promise<string> {
    const result = await this.run(bin, args);
    if (result.exitCode === 0) return result.stdout;
    throw errorFromResult(result);
  }

  zfs(args: readonly string[]): Promise<string> {
    return this.check(this.zfsBin, args);
  }

  zpool(args: readonly string[]): Promise<string> {
    return this.check(this.zpoolBin, args);
  }
}

export function errorFromResult(result: RunResult): ZfsError {
  if (result.spawnError) {
    return new ZfsUnknownError(`cannot run ${result.command[0] ?? 'zfs'}: ${result.spawnError.message}`, {
      command: result.command,
      stderr: result.stderr,
      exitCode: undefined,
      cause: result.spawnError,
    });
  }
  return classifyZfsError({
    stderr: result.stderr,
    exitCode: result.exitCode,
    command: result.command,
    signal: result.signal,
  });
}
