/**
 * Runs the real `zferry` CLI as a child process: the bundle that ships (dist/zferry.js) in the
 * suite, or cmd/zferry.ts through tsx when a test file runs from source.
 */
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { nodeCommand, type Sshd } from './sshd.js';

const fromSource = import.meta.url.endsWith('.ts');

/** Absolute path of the CLI entry point matching how this test runs. */
export const ZFERRY_SCRIPT = fileURLToPath(new URL(fromSource ? '../../cmd/zferry.ts' : '../../zferry.js', import.meta.url));

export function zferryArgv(args: readonly string[]): string[] {
  const loader = fromSource ? ['--import', import.meta.resolve('tsx')] : [];
  return [...loader, ZFERRY_SCRIPT, ...args];
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runZferry(args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
  const result = await execa(process.execPath, zferryArgv(args), {
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    env: { ZFERRY_LOG_LEVEL: 'warn', ...options.env },
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** The shell command that serves zferry on the "remote" end of an ssh connection. */
export function serveCommand(extra: readonly string[] = []): string {
  return nodeCommand(ZFERRY_SCRIPT, ['serve', '--stdio', ...extra]);
}

/** CLI arguments that make zferry reach `sshd` with its throwaway key and options. */
export function sshArgs(sshd: Sshd, remoteCommand = serveCommand()): string[] {
  const connect = sshd.connectOptions();
  return ['--ssh-key', connect.identityFile, ...connect.options.flatMap((option) => ['--ssh-option', option]), '--remote-cmd', remoteCommand];
}

/** `ssh://user@127.0.0.1:port/dataset` for the throwaway sshd. */
export function sshLocation(sshd: Sshd, dataset: string): string {
  return `ssh://${sshd.user}@${sshd.host}:${sshd.port}/${dataset}`;
}

export interface RunningZferry {
  readonly pid: number;
  /** Settles once the CLI has exited (never rejects). */
  readonly result: Promise<CliResult>;
  /** Sends `signal` to the CLI process only (`kill PID`), or to its whole process group (a terminal's Ctrl-C). */
  signal(signal: NodeJS.Signals, target?: 'process' | 'group'): void;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** What the CLI wrote to stderr so far. */
  stderr(): string;
}

/** Starts the CLI without waiting for it, in its own process group, so a test can signal it mid-run. */
export function startZferry(args: readonly string[], options: { env?: Record<string, string> } = {}): RunningZferry {
  const subprocess = execa(process.execPath, zferryArgv(args), {
    reject: false,
    timeout: 120_000,
    env: { ZFERRY_LOG_LEVEL: 'warn', ...options.env },
    stdin: 'ignore',
    detached: true,
  });
  const pid = subprocess.pid;
  if (pid === undefined) throw new Error('zferry did not start');
  let exited = false;
  let stderr = '';
  subprocess.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const result = subprocess.then((done) => {
    exited = true;
    return { exitCode: done.exitCode ?? -1, stdout: String(done.stdout), stderr: String(done.stderr) };
  });
  return {
    pid,
    result,
    get exited() {
      return exited;
    },
    stderr: () => stderr,
    signal(signal, target = 'process') {
      process.kill(target === 'group' ? -pid : pid, signal);
    },
  };
}
