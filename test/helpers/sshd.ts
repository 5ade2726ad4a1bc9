/**
 * A real, throwaway OpenSSH server on 127.0.0.1 for tests (transport tests, and replication
 * tests that run `zferry serve --stdio` on the "remote" side).
 *
 *   const sshd = await startSshd();
 *   await sshd.authorize({ command: `node ${serverScript} --stdio` }); // forced command
 *   const connector = sshConnector({ ...sshd.connectOptions(), remoteCommand: ['zferry', 'serve', '--stdio'] });
 *   ...
 *   await sshd.stop();
 *
 * - Runs `/usr/sbin/sshd -D -f CONFIG -E LOG` on a free port (a few ports are tried), with its
 *   own ed25519 host key, authorized_keys file, pid file and log in a temp dir; only public-key
 *   auth (PasswordAuthentication no, UsePAM no, StrictModes no). The user is the current one.
 * - One client key pair is made up front (`clientKey`), not authorized until `authorize()`.
 *   `authorize({ command })` appends a `restrict,command="..."` line: sshd then runs that
 *   command whatever the client asked for (the client's request is in $SSH_ORIGINAL_COMMAND).
 *   The first matching line for a key wins, so use `newClientKey()` for a second forced command.
 * - Sessions get PATH with the directory of the running node binary (SESSION_PATH, set by the
 *   key's authorized_keys line; `authorize({ path })` gives a key another one), so a
 *   forced command can say `node ...`; the user's shell startup files (bash reads ~/.bashrc
 *   for ssh commands) may still rewrite PATH, so prefer `nodeCommand()`, which builds the
 *   command line with absolute paths (tsx loader included when running TypeScript sources).
 * - stop() kills sshd and removes the dir; a process 'exit' hook does the same for instances a
 *   test forgot, so no daemon outlives the test process.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before } from 'node:test';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export const SSHD_BIN = '/usr/sbin/sshd';

export interface SshKeyPair {
  privateKeyPath: string;
  publicKey: string;
}

export interface AuthorizeOptions {
  /** Forced command run for this key regardless of what the client asks. */
  command?: string;
  /** Prefix the line with `restrict` (no pty, no forwarding); default true. */
  restrict?: boolean;
  /** Default: the harness's `clientKey`. */
  key?: SshKeyPair;
  /** PATH of this key's sessions (authorized_keys `environment=`); default SESSION_PATH. */
  path?: string;
}

/** Fields matching `SshConnectOptions` of the ssh transport (add `remoteCommand`). */
export interface SshdConnectOptions {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  options: string[];
}

export interface Sshd {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly dir: string;
  readonly logPath: string;
  readonly clientKey: SshKeyPair;
  /** Append an authorized_keys line for `key` (default: clientKey). */
  authorize(options?: AuthorizeOptions): Promise<void>;
  /** Make another key pair (not authorized). */
  newClientKey(name?: string): Promise<SshKeyPair>;
  /** Ready-made options for the ssh transport. */
  connectOptions(key?: SshKeyPair): SshdConnectOptions;
  /** The same as command-line arguments for the `ssh` binary (put before the host). */
  sshArgs(key?: SshKeyPair): string[];
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** Client options that make ssh non-interactive and ignore (throwaway) host keys. */
export const SSH_CLIENT_OPTIONS = ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'IdentitiesOnly=yes', 'BatchMode=yes', 'LogLevel=ERROR'];

const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [child, dir] of live) {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function generateKeyPair(dir: string, name: string): Promise<SshKeyPair> {
  const privateKeyPath = path.join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `zferry-test-${name}`, '-f', privateKeyPath]);
  const publicKey = (await readFile(`${privateKeyPath}.pub`, 'utf8')).trim();
  return { privateKeyPath, publicKey };
}

/** An authorized_keys option value: only `"` needs escaping inside the quotes. */
function quoteOption(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error('authorized_keys option values cannot contain newlines');
  return `"${value.replaceAll('"', '\\"')}"`;
}

/** PATH of every session: the running node binary's directory first, then the system's. */
export const SESSION_PATH = [path.dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');

function sshdConfig(dir: string, port: number): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${path.join(dir, 'host_ed25519')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PrintMotd no',
    // Several test files may run sessions at once.
    'MaxStartups 100:30:200',
    'MaxSessions 100',
    // Each authorized key sets its sessions' PATH (authorize()); SetEnv would override that.
    'PermitUserEnvironment PATH',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

async function startOnce(dir: string, port: number): Promise<ChildProcess | 'port-in-use'> {
  const configPath = path.join(dir, 'sshd_config');
  const logPath = path.join(dir, 'sshd.log');
  await writeFile(configPath, sshdConfig(dir, port));
  await writeFile(logPath, '');
  const child = spawn(SSHD_BIN, ['-D', '-f', configPath, '-E', logPath], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.once('error', () => {
    exited = true;
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (exited) {
      const log = await readFile(logPath, 'utf8');
      if (/Address already in use/i.test(log)) return 'port-in-use';
      throw new Error(`sshd exited during startup (code ${String(child.exitCode)}): ${log.trim() || '(empty log)'}`);
    }
    if (await portAccepts(port)) return child;
    await sleep(30);
  }
  child.kill('SIGKILL');
  throw new Error(`sshd did not accept connections on 127.0.0.1:${port} within 10 s: ${await readFile(logPath, 'utf8')}`);
}

export async function startSshd(): Promise<Sshd> {
  // sshd's privilege separation needs this directory.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-sshd-'));
  let child: ChildProcess | undefined;
  let port = 0;
  try {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'zferry-test-host', '-f', path.join(dir, 'host_ed25519')]);
    await writeFile(path.join(dir, 'authorized_keys'), '', { mode: 0o600 });
    const clientKey = await generateKeyPair(dir, 'client_ed25519');
    for (let attempt = 0; attempt < 5 && !child; attempt++) {
      port = await freePort();
      const started = await startOnce(dir, port);
      if (started !== 'port-in-use') child = started;
    }
    if (!child) throw new Error('sshd: no free port after 5 attempts');
    installExitHook();
    live.set(child, dir);
    child.unref();
    return makeHandle(child, dir, port, clientKey);
  } catch (err) {
    child?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function makeHandle(child: ChildProcess, dir: string, port: number, clientKey: SshKeyPair): Sshd {
  const user = os.userInfo().username;
  const logPath = path.join(dir, 'sshd.log');
  let keyCount = 0;
  let stopped: Promise<void> | undefined;
  const handle: Sshd = {
    host: '127.0.0.1',
    port,
    user,
    dir,
    logPath,
    clientKey,
    async authorize(options: AuthorizeOptions = {}) {
      const key = options.key ?? clientKey;
      const opts: string[] = [];
      if (options.restrict ?? true) opts.push('restrict');
      if (options.command !== undefined) opts.push(`command=${quoteOption(options.command)}`);
      opts.push(`environment=${quoteOption(`PATH=${options.path ?? SESSION_PATH}`)}`);
      const line = `${opts.join(',')} ${key.publicKey}`;
      await appendFile(path.join(dir, 'authorized_keys'), `${line}\n`);
    },
    newClientKey(name?: string) {
      keyCount += 1;
      return generateKeyPair(dir, `${name ?? 'client'}-${keyCount}_ed25519`);
    },
    connectOptions(key: SshKeyPair = clientKey) {
      return { host: '127.0.0.1', port, user, identityFile: key.privateKeyPath, options: [...SSH_CLIENT_OPTIONS] };
    },
    sshArgs(key: SshKeyPair = clientKey) {
      return ['-p', String(port), '-i', key.privateKeyPath, '-l', user, ...SSH_CLIENT_OPTIONS.flatMap((option) => ['-o', option])];
    },
    log: () => readFile(logPath, 'utf8'),
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.ref(); // keep the event loop alive until sshd is gone
          child.kill('SIGTERM');
          await exited;
        }
        live.delete(child);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  return handle;
}

/**
 * A shell command line running a node script with absolute paths: `.ts` sources get the tsx
 * loader (resolved from this package, so the session's working directory does not matter).
 */
export function nodeCommand(script: string, args: readonly string[] = []): string {
  const loader = script.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  return [process.execPath, ...loader, script, ...args].map(shellWord).join(' ');
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * In the current suite (or file): a throwaway sshd started before the tests, with the client
 * key authorized (no forced command), and stopped after them. Call the getter inside tests.
 */
export function useSshd(): () => Sshd {
  let sshd: Sshd | undefined;
  before(async () => {
    sshd = await startSshd();
    await sshd.authorize();
  });
  after(async () => {
    await sshd?.stop();
  });
  return () => {
    if (!sshd) throw new Error('useSshd(): the sshd exists only inside tests (after before() ran)');
    return sshd;
  };
}
