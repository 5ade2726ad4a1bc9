/** The `zferry` command tree. Each command lives in its own module. */
import { Command } from 'commander';
import { registerConfigcheck } from './configcheck.js';
import { registerDaemon } from './daemon.js';
import { registerPrune } from './prune.js';
import { registerReplicate } from './replicate.js';
import { registerRun } from './run.js';
import { registerServe } from './serve.js';
import { registerSignal } from './signal.js';
import { registerStatus } from './status.js';
import { registerStdinserver } from './stdinserver.js';
import { registerTestFilesystems } from './test-filesystems.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command('zferry')
    .description('Replicate ZFS snapshots between pools and hosts.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (text) => process.stderr.write(text), writeErr: (text) => process.stderr.write(text) })
    .showHelpAfterError();
  registerReplicate(program, 'push');
  registerReplicate(program, 'pull');
  registerServe(program);
  registerStdinserver(program);
  registerConfigcheck(program);
  registerDaemon(program);
  registerRun(program);
  registerPrune(program);
  registerStatus(program);
  registerSignal(program);
  registerTestFilesystems(program);
  return program;
}
