import type { Connector, PeerIdentity } from './types.js';
import { TransportError } from './errors.js';
import { exitStatusText, spawnChildConnection, stderrSuffix } from './child-process.js';
import type { ChildConnection, ChildExit } from './child-process.js';

/** Who to reach and how: what decides the ssh client's configuration for a connection. */
export interface SshClientOptions {
  host: string;
  user?: string;
  port?: number;
  identityFile?: string;
  /** `ssh -F`: this file instead of ~/.ssh/config and the system-wide ssh_config. */
  configFile?: string;
  /** Extra `-o` options as `Key=value` (e.g. `Ciphers=aes128-gcm@openssh.com`). */
  options?: readonly string[];
}

export interface SshConnectOptions extends SshClientOptions {
  /**
   * The command to run remotely, as an argument vector (e.g. ['zferry', 'serve', '--stdio']).
   * ssh hands the remote shell one string, so each argument is quoted for a POSIX shell.
   */
  remoteCommand: readonly string[];
  /** Default: `ssh` from PATH. */
  sshBin?: string;
  /** Each chunk of ssh's stderr (it is also kept for error messages). */
  onStderr?: (text: string) => void;
  /** After close(), how long ssh may take to exit on its own before SIGTERM; default 2 s. */
  closeGraceMs?: number;
}

/** Host names, IPv4/IPv6 addresses and ssh_config aliases; never an option (leading `-`). */
const HOST_PATTERN = /^[A-Za-z0-9_.:%[\]][A-Za-z0-9_.:%[\]-]*$/;
const USER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/;
const OPTION_PATTERN = /^[A-Za-z][A-Za-z0-9]*=[^\n\r\0]*$/;
/** Arguments made only of these characters need no quoting in a POSIX shell. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

function invalid(message: string): TransportError {
  return new TransportError('INVALID_ARGUMENT', message);
}

function validate(options: SshClientOptions): void {
  if (!HOST_PATTERN.test(options.host)) {
    throw invalid(
      `invalid ssh host ${JSON.stringify(options.host)}: expected a host name or address${options.host.includes('@') ? ' (pass the user separately)' : ''}`,
    );
  }
  if (options.user !== undefined && !USER_PATTERN.test(options.user)) {
    throw invalid(`invalid ssh user ${JSON.stringify(options.user)}`);
  }
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535)) {
    throw invalid(`invalid ssh port ${String(options.port)}`);
  }
  for (const [what, file] of [
    ['identity file', options.identityFile],
    ['config file', options.configFile],
  ] as const) {
    if (file !== undefined && (file.length === 0 || file.startsWith('-'))) throw invalid(`invalid ssh ${what} ${JSON.stringify(file)}`);
  }
  for (const option of options.options ?? []) {
    if (!OPTION_PATTERN.test(option)) throw invalid(`invalid ssh option ${JSON.stringify(option)}: expected Key=value`);
  }
}

/** Quote one argument for the remote POSIX shell. */
export function shellQuote(arg: string): string {
  if (SHELL_SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The full ssh argument vector (exported for logs and tests). */
export function sshArguments(options: SshConnectOptions): string[] {
  const args = sshOptionArguments(options);
  if (options.remoteCommand.length === 0) throw invalid('ssh remoteCommand is empty');
  args.push('--', options.host, options.remoteCommand.map(shellQuote).join(' '));
  return args;
}

/**
 * The options of the ssh command line, everything before `-- host`, validated: what `ssh -G`
 * must be given too to report the configuration a connection would use.
 */
export function sshOptionArguments(options: SshClientOptions): string[] {
  validate(options);
  const args = [
    // No tty, no escape character: the channel must be 8-bit clean both ways.
    '-T',
    '-e',
    'none',
    // Never prompt: a password or host-key question would hang a daemon forever.
    '-o',
    'BatchMode=yes',
  ];
  // ssh keeps the first value given for an option: the caller's come before our defaults.
  for (const option of options.options ?? []) args.push('-o', option);
  args.push('-o', 'ConnectTimeout=20', '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4');
  if (options.port !== undefined) args.push('-p', String(options.port));
  if (options.identityFile !== undefined) args.push('-i', options.identityFile);
  if (options.user !== undefined) args.push('-l', options.user);
  if (options.configFile !== undefined) args.push('-F', options.configFile);
  return args;
}

const AUTH_FAILURE = /Permission denied|Too many authentication failures|No more authentication methods|Authentication failed|no mutual signature/i;
const CONNECT_FAILURE =
  /Connection refused|Connection timed out|Operation timed out|No route to host|Network is unreachable|Could not resolve hostname|Name or service not known|Temporary failure in name resolution|Host key verification failed|kex_exchange_identification|Connection closed by|Connection reset by/i;

/** ssh itself exits 255 on its own errors; any other status is the remote command's. */
export function classifySshExit(destination: string, exit: ChildExit): TransportError {
  const status = exitStatusText(exit);
  const detail = stderrSuffix(exit.stderr);
  if (exit.spawnError) {
    return new TransportError('SPAWN_FAILED', `cannot run ssh: ${exit.spawnError.message}`, { cause: exit.spawnError });
  }
  if (exit.exitCode === 255) {
    if (AUTH_FAILURE.test(exit.stderr)) {
      return new TransportError('SSH_AUTH', `ssh authentication to ${destination} failed (${status})${detail}`);
    }
    if (CONNECT_FAILURE.test(exit.stderr)) {
      return new TransportError('SSH_CONNECT', `ssh could not connect to ${destination} (${status})${detail}`);
    }
    return new TransportError('SSH_FAILED', `ssh to ${destination} failed (${status})${detail}`);
  }
  if (exit.exitCode !== undefined) {
    return new TransportError('SSH_REMOTE_COMMAND', `remote command on ${destination} failed (${status})${detail}`);
  }
  return new TransportError('SSH_FAILED', `ssh to ${destination} ended unexpectedly (${status})${detail}`);
}

/**
 * Runs `remoteCommand` on the host through the system ssh client and talks over its
 * stdin/stdout. connect() resolves once ssh is started (ssh gives no earlier signal that the
 * session is up); if ssh then fails (host down, key refused, command missing) the stream is
 * destroyed with a TransportError (SSH_CONNECT, SSH_AUTH, SSH_REMOTE_COMMAND, SSH_FAILED) that
 * carries ssh's exit status and stderr.
 */
export function sshConnector(options: SshConnectOptions): Connector {
  const args = sshArguments(options);
  const sshBin = options.sshBin ?? 'ssh';
  const who = options.user !== undefined ? `${options.user}@${options.host}` : options.host;
  const destination = options.port !== undefined ? `${who} port ${options.port}` : who;
  const peer: PeerIdentity = { transport: 'ssh', name: who, detail: `${sshBin} ${args.join(' ')}` };
  return {
    async connect(signal?: AbortSignal): Promise<ChildConnection> {
      if (signal?.aborted) throw new TransportError('ABORTED', 'connect aborted', { cause: signal.reason });
      const connection = spawnChildConnection({
        file: sshBin,
        args,
        peer,
        describeFailure: (exit) => classifySshExit(destination, exit),
        // Ctrl-C on zferry's terminal must not cut the connection before zferry has stopped
        // the remote side's transfers.
        detached: true,
        ...(options.onStderr ? { onStderr: options.onStderr } : {}),
        ...(options.closeGraceMs !== undefined ? { closeGraceMs: options.closeGraceMs } : {}),
      });
      return connection;
    },
  };
}
