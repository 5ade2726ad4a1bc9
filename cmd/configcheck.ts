/**
 * `zferry configcheck [--config FILE]`: validates the daemon's configuration file. Valid: prints
 * `FILE: ok (N jobs)` on stdout, exit 0. Not: every problem on stderr, one per line as
 * `FILE:LINE:COLUMN: path: what is wrong`, exit 2 (the ConfigError reaches the top-level catch):
 * the file's own problems, then what the daemon would refuse of it at start.
 */
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../config/types.js';

export function registerConfigcheck(program: Command): void {
  program
    .command('configcheck')
    .description('check the daemon configuration file and name every problem in it')
    .option('--config <file>', 'the configuration file', DEFAULT_CONFIG_FILE)
    .action(async (options: { config: string }) => {
      // Loaded here, not at start-up: zod and yaml stay out of every other command's start.
      const [{ loadConfig }, { checkDaemonConfig }, { JobNameStore }] = await Promise.all([
        import('../config/load.js'),
        import('../daemon/daemon-config.js'),
        import('../daemon/job-names.js'),
      ]);
      const config = await loadConfig(options.config);
      // What the daemon would refuse at start too (keep rules that do not read, a job that
      // cannot be planned, a silent rename): the unit runs configcheck before the daemon.
      const names = new JobNameStore(config.global.stateDir);
      checkDaemonConfig(config, await names.load(() => undefined), names.file);
      const count = config.jobs.length;
      process.stdout.write(`${options.config}: ok (${count} ${count === 1 ? 'job' : 'jobs'})\n`);
    });
}
