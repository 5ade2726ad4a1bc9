/**
 * `zferry signal wakeup JOB` (run the job now) and `zferry signal reset JOB` (cancel its
 * current invocation), sent to the running daemon over its control socket. One line on stdout
 * once the daemon has taken the signal; a job it does not run, or a sink or source woken, is a
 * usage error (exit 2); no daemon, exit 1.
 */
import { Argument, type Command } from 'commander';
import type { SignalAction } from '../daemon/control-contract.js';
import { controlSocketOptions, resolveSockpath, type ControlSocketOptions } from './control-socket.js';

const DONE: Record<SignalAction, (job: string) => string> = {
  wakeup: (job) => `woke up job ${job}: it runs now (see zferry status)`,
  reset: (job) => `reset job ${job}: its current run, if any, is being stopped`,
};

export function registerSignal(program: Command): void {
  controlSocketOptions(
    program
      .command('signal')
      .description('tell the daemon to run a job now (wakeup) or to cancel its current run (reset)')
      .addArgument(new Argument('<action>', 'wakeup: replicate now; reset: cancel the current invocation').choices(['wakeup', 'reset']))
      .argument('<job>', "the job's name in the config"),
  ).action(async (action: SignalAction, job: string, options: ControlSocketOptions) => {
    const sockpath = await resolveSockpath(options, (message) => process.stderr.write(`zferry: warning: ${message}\n`));
    const { connectControl } = await import('../daemon/control-client.js');
    const client = await connectControl(sockpath);
    try {
      await client.signal(action, job);
    } finally {
      await client.close();
    }
    process.stdout.write(`${DONE[action](job)}\n`);
  });
}
