/**
 * `zferry stdinserver ID`: the forced command of a client's key in the backup host's
 * authorized_keys (`command="zferry stdinserver ID",restrict ...`). It connects to the running
 * daemon's socket for identity ID (`<sockdir>/<ID>`, see daemon/serving/stdinserver-listener.ts)
 * and carries the ssh session both ways, byte for byte: the daemon speaks the RPC, so its locks,
 * status and metrics see the session. Nothing but session bytes is written to stdout.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { componentProblem } from '../config/names.js';
import { DEFAULT_CONFIG_FILE, DEFAULT_STDINSERVER_SOCKDIR } from '../config/types.js';
import { NoDaemonError } from '../daemon/control-errors.js';
import { errorCode, errorMessage, ZferryError } from '../platform/errors.js';
import { UsageError } from './errors.js';

interface StdinserverOptions {
  config?: string;
  sockdir?: string;
}

/** The daemon ended the session abnormally (it died, or reset the connection). */
export class StdinserverSessionError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STDINSERVER_SESSION_FAILED', message, options);
  }
}

export function registerStdinserver(program: Command): void {
  program
    .command('stdinserver')
    .description("carry an ssh session to the daemon's stdinserver socket for client identity ID (the forced command in authorized_keys)")
    .argument('<identity>', "the client identity: one of a sink or source job's serve.client_identities")
    .option('--config <file>', `the daemon's config, for global.serve.stdinserver.sockdir (default ${DEFAULT_CONFIG_FILE})`)
    .option('--sockdir <dir>', 'the socket directory itself, instead of reading it from the config')
    .action(async (identity: string, options: StdinserverOptions) => {
      const problem = componentProblem(identity, `client identity ${JSON.stringify(identity)}`);
      if (problem !== undefined) throw new UsageError(problem);
      if (options.config !== undefined && options.sockdir !== undefined) throw new UsageError('give --config or --sockdir, not both');
      const sockdir = options.sockdir ?? (options.config !== undefined ? await sockdirOf(options.config) : await defaultSockdir());
      const socketPath = path.join(path.resolve(sockdir), identity);
      await carrySession(identity, socketPath);
    });
}

/**
 * No --config: the default file's sockdir, or the default sockdir when there is no such file
 * (a host without a config has no daemon either: the session then ends with the one NO_DAEMON line).
 */
async function defaultSockdir(): Promise<string> {
  if (!existsSync(DEFAULT_CONFIG_FILE)) return DEFAULT_STDINSERVER_SOCKDIR;
  return sockdirOf(DEFAULT_CONFIG_FILE);
}

async function sockdirOf(configFile: string): Promise<string> {
  const { loadConfig } = await import('../config/load.js');
  return (await loadConfig(configFile)).global.serve.stdinserver.sockdir;
}

/** Connect to the daemon, then copy stdin → socket and socket → stdout until the daemon ends the session. */
async function carrySession(identity: string, socketPath: string): Promise<void> {
  // Loaded here, not at start-up: `--help` stays quick.
  const [{ unixConnector }, { stdioConnection }] = await Promise.all([import('../transport/unix.js'), import('../transport/stdio.js')]);
  // Take stdout before anything could print to it: it carries the session, nothing else.
  const stdio = stdioConnection();
  let daemon;
  try {
    daemon = await unixConnector({ path: socketPath }).connect();
  } catch (error) {
    stdio.close();
    const code = errorCode((error as { cause?: unknown }).cause);
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTDIR') {
      throw new NoDaemonError(`no zferry daemon serves stdinserver identity ${identity} (nothing listens on ${socketPath})`, { cause: error });
    }
    throw new StdinserverSessionError(`cannot reach the zferry daemon for stdinserver identity ${identity} on ${socketPath}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  const upstream = stdio.stream;
  const socket = daemon.stream;
  try {
    await new Promise<void>((resolve, reject) => {
      let daemonEnded = false;
      // Both ways with backpressure; an end is passed on as a half-close (stdin EOF → the
      // socket's write side; the daemon's end → stdout's end), so neither side loses bytes.
      upstream.pipe(socket);
      socket.pipe(upstream);
      socket.once('end', () => {
        daemonEnded = true;
      });
      // Done once the daemon has ended and all it sent is out on stdout; the ssh client may
      // keep its side open (ssh does until it closes), which must not keep us running.
      upstream.once('finish', () => {
        if (daemonEnded) resolve();
      });
      socket.once('error', (error) => {
        // After the daemon ended its side, a failed write of late client bytes is no news.
        if (!daemonEnded)
          reject(new StdinserverSessionError(`the zferry daemon's connection for ${identity} failed: ${errorMessage(error)}`, { cause: error }));
      });
      socket.once('close', () => {
        if (!daemonEnded) reject(new StdinserverSessionError(`the zferry daemon closed the connection for ${identity} in the middle of the session`));
      });
      upstream.once('error', (error) =>
        reject(new StdinserverSessionError(`the ssh session for ${identity} failed: ${errorMessage(error)}`, { cause: error })),
      );
      // The ssh side went away (stdout's reader is gone): nothing more can reach the client.
      upstream.once('close', () => {
        if (!upstream.writableFinished) reject(new StdinserverSessionError(`the ssh session for ${identity} ended before the daemon finished`));
      });
    });
  } finally {
    // Let go of stdin and the socket, so the process exits and each peer sees its end.
    daemon.close();
    stdio.close();
  }
}
