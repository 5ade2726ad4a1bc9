/**
 * A real `zferry daemon` (dist/zferry.js, as installed) for the benchmark: its config, state
 * dir and control socket in a private temp dir, the process in its own group with its JSON log
 * lines kept, and one control connection for status and wakeup (opened when first needed,
 * closed before an idle measurement so that nothing talks to the daemon then).
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectControl, type ControlClient } from '../../daemon/control-client.js';
import type { DaemonStatus, JobStatusView } from '../../daemon/status-types.js';
import { BenchSetupError } from '../replication/errors.js';
import type { DaemonPaths } from './config-yaml.js';
import { spawnTracked, type TrackedProcess } from './processes.js';

const DIR_PREFIX = 'zferry-bench-daemon-';
const dirs = new Set<string>();

export interface DaemonDir {
  dir: string;
  configFile: string;
  paths: DaemonPaths;
  remove(): Promise<void>;
}

/** A private directory (mode 0700, as mkdtemp makes it) for one daemon's config, state and socket. */
export async function makeDaemonDir(): Promise<DaemonDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), DIR_PREFIX));
  dirs.add(dir);
  return {
    dir,
    configFile: path.join(dir, 'zferry.yml'),
    paths: { stateDir: path.join(dir, 'state'), sockpath: path.join(dir, 'run', 'control') },
    remove: async () => {
      dirs.delete(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Removes every daemon directory still there (after the daemons have stopped). */
export async function removeDaemonDirs(): Promise<void> {
  await Promise.allSettled([...dirs].map((dir) => rm(dir, { recursive: true, force: true })));
  dirs.clear();
}

export interface LogLine {
  level: number;
  msg: string;
  job?: string;
  /** performance.now() when the benchmark read the line. */
  seenAtMs: number;
  [key: string]: unknown;
}

export interface BenchDaemon {
  readonly pid: number;
  readonly process: TrackedProcess;
  logs(): readonly LogLine[];
  status(): Promise<DaemonStatus>;
  job(name: string): Promise<JobStatusView>;
  wakeup(job: string): Promise<void>;
  /** Closes the control connection (the next call opens another). */
  disconnect(): Promise<void>;
  /** The last lines of its stderr, for error messages. */
  tail(lines?: number): string;
  /** SIGTERM, then waits for it to exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

/**
 * Starts `node [nodeArgs] CLI daemon --config FILE` (with `yaml` written there) and waits for its
 * control socket. `nodeArgs` are for experiments (e.g. V8 flags: they win over the ones zferry sets).
 */
export async function startDaemon(cli: string, dir: DaemonDir, yaml: string, nodeArgs: readonly string[] = []): Promise<BenchDaemon> {
  await writeFile(dir.configFile, yaml);
  const logs: LogLine[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  // The daemon's own default (info, JSON lines on a pipe): what a service logs.
  delete env.ZFERRY_LOG_LEVEL;
  const child = spawnTracked([process.execPath, ...nodeArgs, cli, 'daemon', '--config', dir.configFile], {
    label: 'zferry daemon',
    env,
    captureStderr: true,
    onStderrLine: (line) => {
      if (!line.startsWith('{')) return;
      try {
        logs.push({ ...(JSON.parse(line) as LogLine), seenAtMs: performance.now() });
      } catch {
        // Not a log line.
      }
    },
  });
  let client: ControlClient | undefined;
  const tail = (lines = 30): string => child.stderrLines().slice(-lines).join('\n');
  const control = async (): Promise<ControlClient> => {
    if (child.hasExited) throw new BenchSetupError(`the daemon exited:\n${tail()}`);
    client ??= await connectControl(dir.paths.sockpath);
    return client;
  };
  const call = async <T>(what: (c: ControlClient) => Promise<T>): Promise<T> => {
    try {
      return await what(await control());
    } catch (error) {
      // A broken connection is not kept; the caller decides whether to try again.
      const stale = client;
      client = undefined;
      await stale?.close().catch(() => undefined);
      if (child.hasExited) throw new BenchSetupError(`the daemon exited:\n${tail()}`, { cause: error });
      throw error;
    }
  };
  const daemon: BenchDaemon = {
    pid: child.pid,
    process: child,
    logs: () => logs,
    status: () => call((c) => c.status()),
    async job(name) {
      const job = (await daemon.status()).jobs.find((candidate) => candidate.name === name);
      if (job === undefined) throw new BenchSetupError(`the daemon has no job ${name}`);
      return job;
    },
    wakeup: (job) => call((c) => c.signal('wakeup', job)),
    async disconnect() {
      const open = client;
      client = undefined;
      await open?.close().catch(() => undefined);
    },
    tail,
    async stop() {
      await daemon.disconnect();
      await child.stop();
    },
  };
  await waitForControl(daemon);
  return daemon;
}

async function waitForControl(daemon: BenchDaemon, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (daemon.process.hasExited) throw new BenchSetupError(`the daemon exited at start:\n${daemon.tail()}`);
    try {
      await daemon.status();
      return;
    } catch (error) {
      if (performance.now() > deadline)
        throw new BenchSetupError(`the daemon's control socket did not answer within ${timeoutMs} ms:\n${daemon.tail()}`, { cause: error });
      await sleep(100);
    }
  }
}

/** Polls status every `pollMs` until `check` passes for the job; fails after `timeoutMs`. */
export async function waitForJob(
  daemon: BenchDaemon,
  name: string,
  check: (job: JobStatusView) => boolean,
  what: string,
  options: { pollMs?: number; timeoutMs?: number } = {},
): Promise<JobStatusView> {
  const { pollMs = 100, timeoutMs = 600_000 } = options;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const job = await daemon.job(name);
    if (check(job)) return job;
    if (performance.now() > deadline) throw new BenchSetupError(`job ${name}: not ${what} within ${timeoutMs} ms: ${JSON.stringify(job)}\n${daemon.tail()}`);
    await sleep(pollMs);
  }
}

/** An invocation's failure as one line (its error, else the first filesystem error). */
export function invocationFailure(job: JobStatusView): string {
  const last = job.last;
  const fsError = job.filesystems.find((fs) => fs.lastError !== undefined);
  return `${job.name}: ${last?.outcome ?? 'no invocation'}${last?.error ? `: ${last.error.message}` : ''}${
    fsError?.lastError ? ` (${fsError.source}: ${fsError.lastError.message})` : ''
  }`;
}
