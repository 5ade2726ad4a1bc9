/**
 * A real `zferry daemon` for tests: its config written from YAML into a private temp dir (with
 * the state dir and the control socket there too), started in its own process group, its JSON
 * log lines parsed as they come, its status read over the control socket.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectControl } from '../../daemon/control-client.js';
import type { DaemonStatus, JobStatusView } from '../../daemon/status-types.js';
import { fileURLToPath } from 'node:url';
import { startZferry, zferryArgv, type CliResult, type RunningZferry } from './cli.js';
import { nodeCommand, type Sshd, type SshKeyPair } from './sshd.js';

export interface LogLine {
  level: number;
  msg: string;
  job?: string;
  [key: string]: unknown;
}

export interface DaemonDir {
  dir: string;
  configFile: string;
  sockpath: string;
  stateDir: string;
  /** The global section every test config starts with (state dir and socket in the temp dir). */
  globalYaml(): string;
  /** Writes `jobsYaml` (the `jobs:` list, indented as in the file) after the global section. */
  writeConfig(jobsYaml: string): Promise<void>;
  remove(): Promise<void>;
}

export async function daemonDir(): Promise<DaemonDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-daemon-'));
  const configFile = path.join(dir, 'zferry.yml');
  const sockpath = path.join(dir, 'run', 'control');
  const stateDir = path.join(dir, 'state');
  const globalYaml = (): string => ['global:', `  state_dir: ${stateDir}`, '  control:', `    sockpath: ${sockpath}`, ''].join('\n');
  return {
    dir,
    configFile,
    sockpath,
    stateDir,
    globalYaml,
    writeConfig: (jobsYaml) => writeFile(configFile, `${globalYaml()}${jobsYaml}`),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface RunningDaemon {
  readonly process: RunningZferry;
  readonly pid: number;
  /** Every log line so far (JSON lines on stderr). */
  logs(): LogLine[];
  /** Resolves with the first log line (from `since`) matching; fails if the daemon exits first or after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, what: string, options?: { since?: number; timeoutMs?: number }): Promise<LogLine>;
  status(): Promise<DaemonStatus>;
  job(name: string): Promise<JobStatusView>;
  /** Waits until the job's status passes `check`. */
  waitForJob(name: string, check: (job: JobStatusView) => boolean, what: string, timeoutMs?: number): Promise<JobStatusView>;
  /** SIGTERM, then the exit. */
  stop(): Promise<CliResult>;
}

export function startDaemon(dir: DaemonDir, options: { env?: Record<string, string> } = {}): RunningDaemon {
  const running = startZferry(['daemon', '--config', dir.configFile], { env: { ZFERRY_LOG_LEVEL: 'info', ...options.env } });
  const parse = (): LogLine[] =>
    running
      .stderr()
      .split('\n')
      .flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return [];
        }
      });
  const daemon: RunningDaemon = {
    process: running,
    pid: running.pid,
    logs: parse,
    async waitForLog(match, what, { since = 0, timeoutMs = 60_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = parse().slice(since).find(match);
        if (found !== undefined) return found;
        if (running.exited) throw new Error(`the daemon exited before ${what}:\n${running.stderr()}`);
        if (Date.now() > deadline) throw new Error(`no log line for ${what} within ${timeoutMs} ms:\n${running.stderr()}`);
        await sleep(50);
      }
    },
    async status() {
      const client = await connectControl(dir.sockpath);
      try {
        return await client.status();
      } finally {
        await client.close();
      }
    },
    async job(name) {
      const job = (await daemon.status()).jobs.find((candidate) => candidate.name === name);
      if (job === undefined) throw new Error(`the daemon has no job ${name}`);
      return job;
    },
    async waitForJob(name, check, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (running.exited) throw new Error(`the daemon exited before ${what}:\n${running.stderr()}`);
        const job = await daemon.job(name).catch(() => undefined);
        if (job !== undefined && check(job)) return job;
        if (Date.now() > deadline) throw new Error(`job ${name}: not ${what} within ${timeoutMs} ms: ${JSON.stringify(job, null, 2)}\n${running.stderr()}`);
        await sleep(100);
      }
    },
    async stop() {
      if (!running.exited) running.signal('SIGTERM');
      return running.result;
    },
  };
  return daemon;
}

/** Waits for the control socket to answer (the daemon is up and scheduled its jobs). */
export async function daemonReady(daemon: RunningDaemon, timeoutMs = 30_000): Promise<DaemonStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (daemon.process.exited) throw new Error(`the daemon exited at start:\n${daemon.process.stderr()}`);
    try {
      return await daemon.status();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** The argument vector that runs `zferry serve --stdio` as this test runs zferry (source or build). */
export function serveArgv(): string[] {
  return [process.execPath, ...zferryArgv(['serve', '--stdio'])];
}

/**
 * A forced command serving zferry through test/fixtures/throttled-serve: the stream to the
 * client flows at most `bytesPerSecond`.
 */
export function throttledServeCommand(bytesPerSecond: number): string {
  const script = fileURLToPath(new URL(`../fixtures/throttled-serve.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
  return nodeCommand(script, [String(bytesPerSecond), '--', ...serveArgv()]);
}

/** YAML of an ssh connect reaching the test sshd with `key`. */
export function sshConnectYaml(sshd: Sshd, key: SshKeyPair, indent: string): string {
  const options = sshd.connectOptions(key);
  return [
    `${indent}connect:`,
    `${indent}  type: ssh`,
    `${indent}  host: ${options.host}`,
    `${indent}  port: ${options.port}`,
    `${indent}  user: ${options.user}`,
    `${indent}  identity_file: ${options.identityFile}`,
    `${indent}  options: [${options.options.join(', ')}]`,
  ].join('\n');
}

/**
 * The start of the commonest test config's `jobs:` list: a local sink `backups` at `sinkRoot`
 * and a push job `laptop` connected to it as client `laptop`; the caller adds the push's
 * remaining keys (filesystems, schedule, …), indented by four spaces.
 */
export function sinkAndPushJobs(sinkRoot: string): string[] {
  return [
    'jobs:',
    '  - name: backups',
    '    type: sink',
    '    serve: {type: local, listener_name: backups}',
    `    root_fs: ${sinkRoot}`,
    '  - name: laptop',
    '    type: push',
    '    connect: {type: local, listener_name: backups, client_identity: laptop}',
  ];
}
