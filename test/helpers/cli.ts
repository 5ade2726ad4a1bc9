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
