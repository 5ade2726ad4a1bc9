#!/usr/bin/env node
/**
 * The zferry CLI entry point: runs one command and maps any error to an exit code
 * (0 success, 1 failure, 2 usage or configuration error, 130/143 interrupted by SIGINT/SIGTERM;
 * see errors.ts). This is the only catch-all.
 */
import { CommanderError } from 'commander';
import { tuneProcessForBulkStreams } from '../platform/index.js';
import { describeError } from '../replication/job/errors.js';
import { EXIT_OK, exitCodeFor, JobFailedError } from './errors.js';
import { buildProgram } from './program.js';

async function main(argv: string[]): Promise<number> {
  // Every command that moves data streams it in this process: tune before the first byte.
  tuneProcessForBulkStreams();
  try {
    await buildProgram().parseAsync(argv);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed the message (and help); only the exit code is left.
      return error.exitCode === 0 ? EXIT_OK : exitCodeFor(error);
    }
    if (!(error instanceof JobFailedError)) {
      // A refusal by the other side is named by its own code (RPC_REMOTE only says it came from there).
      const { code, message } = describeError(error);
      process.stderr.write(`zferry: ${code === 'ERROR' ? '' : `[${code}] `}${message}\n`);
      if (process.env.ZFERRY_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    }
    return exitCodeFor(error);
  }
}

// No top-level await: the shipped bundle is CommonJS (see launcher.ts).
void main(process.argv).then((code) => {
  process.exitCode = code;
  // Let pending output drain; if a stray handle kept the loop alive, do not hang forever.
  setTimeout(() => process.exit(), 5000).unref();
});
