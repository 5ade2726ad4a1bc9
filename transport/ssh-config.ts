/**
 * The configuration ssh itself would use for a connection, without connecting: `ssh -G`
 * applies the command line, then ~/.ssh/config (or `-F`) and the system-wide file, and prints
 * the result. Given the same options as the connection, it names the user and port that
 * connection really uses, whatever the caller spelt out.
 */
import { execa } from 'execa';
import { TransportError } from './errors.js';
import { sshOptionArguments, type SshClientOptions } from './ssh.js';

export interface SshEffectiveConfig {
  user: string;
  port: number;
  /** The address ssh connects to (`HostName`, else the host as given), lowercased by ssh. */
  hostname: string;
}

export interface SshEffectiveConfigOptions extends SshClientOptions {
  /** Default: `ssh` from PATH. */
  sshBin?: string;
  signal?: AbortSignal;
}

/** `ssh -G` reads files only; anything slower is a hung `Match exec`. */
const TIMEOUT_MS = 10_000;

export async function sshEffectiveConfig(options: SshEffectiveConfigOptions): Promise<SshEffectiveConfig> {
  const args = ['-G', ...sshOptionArguments(options), '--', options.host];
  const sshBin = options.sshBin ?? 'ssh';
  const result = await execa(sshBin, args, {
    reject: false,
    stdin: 'ignore',
    timeout: TIMEOUT_MS,
    ...(options.signal !== undefined ? { cancelSignal: options.signal } : {}),
  });
  if (result.failed && result.exitCode === undefined && !result.timedOut && !result.isCanceled) {
    throw new TransportError('SPAWN_FAILED', `cannot run ${sshBin} -G: ${result.shortMessage}`, { cause: result });
  }
  if (result.isCanceled) throw new TransportError('ABORTED', `${sshBin} -G ${options.host} aborted`, { cause: options.signal?.reason });
  if (result.exitCode !== 0) {
    const why = result.timedOut ? `no answer within ${TIMEOUT_MS / 1000} s` : String(result.stderr).trim() || `exit code ${String(result.exitCode)}`;
    throw new TransportError('SSH_FAILED', `${sshBin} -G ${options.host} failed: ${why}`);
  }
  const config = parseSshConfigDump(String(result.stdout));
  const user = config.get('user');
  const port = Number(config.get('port'));
  const hostname = config.get('hostname');
  if (user === undefined || hostname === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TransportError('SSH_FAILED', `${sshBin} -G ${options.host} did not report a user, host name and port`);
  }
  return { user, port, hostname };
}

/** `ssh -G` output: one `keyword value` per line; the first line of a keyword wins. */
export function parseSshConfigDump(text: string): Map<string, string> {
  const config = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\S+) (.*)$/.exec(line.trimEnd());
    const keyword = match?.[1]?.toLowerCase();
    if (keyword !== undefined && match?.[2] !== undefined && !config.has(keyword)) config.set(keyword, match[2]);
  }
  return config;
}
