/**
 * `zferry serve --stdio`: the remote side of a push or pull over ssh. Serves the endpoint
 * contract on stdin/stdout; nothing else may be written to stdout.
 */
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { validateFilesystemName } from '../replication/zfs/names.js';
import { UsageError } from './errors.js';
import { REPLICATION_RPC_LIMITS } from '../replication/endpoint/rpc-limits.js';
import { createLogger, type Verbosity } from './logger.js';

interface ServeOptions {
  stdio?: boolean;
  root: string[];
  verbose?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the replication endpoint on stdin/stdout (run by push/pull through ssh)')
    .option('--stdio', 'talk the framed RPC on stdin/stdout')
    .option('--root <dataset>', 'only allow datasets at or below this one (repeatable)', collect, [])
    .option('-v, --verbose', 'debug logging on stderr')
    .action(async (options: ServeOptions) => {
      if (!options.stdio) throw new UsageError('serve needs --stdio (the only listener for now)');
      for (const root of options.root) validateFilesystemName(root);
      const verbosity: Verbosity = options.verbose ? 'verbose' : 'normal';
      const logger = await createLogger(verbosity, 'zferry-serve');
      // Loaded here, not at start-up: `--help` and `--version` stay quick.
      const [{ RpcServer }, { stdioConnection }, { endpointContract }, { createZfsEndpoint }, { ZfsDriver, defaultProbeCachePath }] = await Promise.all([
        import('../rpc/server.js'),
        import('../transport/stdio.js'),
        import('../replication/contract.js'),
        import('../replication/endpoint/zfs-endpoint.js'),
        import('../replication/zfs/index.js'),
      ]);
      const server = new RpcServer({ logger, limits: REPLICATION_RPC_LIMITS });
      server.register(
        endpointContract,
        createZfsEndpoint({
          driver: new ZfsDriver({ logger, probeCacheFile: defaultProbeCachePath() }),
          logger,
          ...(options.root.length > 0 ? { roots: options.root } : {}),
        }),
      );
      const transport = stdioConnection();
      const connection = server.serve(transport);
      await connection.closed.catch((error: unknown) => {
        logger.debug({ err: error }, 'connection ended');
      });
      // The connection ends once both sides said goodbye, even while the peer keeps stdin open
      // (ssh does until the client closes): let our last frames out, then let go of stdin so
      // the process exits and the peer sees stdout end.
      await writingFinished(transport.stream);
      transport.close();
    });
}

/** Resolves once everything written to `stream` was handed on (or it was destroyed). */
function writingFinished(stream: Writable): Promise<void> {
  if (stream.writableFinished || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('finish', resolve);
    stream.once('close', resolve);
  });
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
