/**
 * `zferry configcheck [--config FILE]`: validates the daemon's configuration file. Valid: prints
 * `FILE: ok (N jobs)` on stdout, exit 0. Not: every problem on stderr, one per line as
 * `FILE:LINE:COLUMN: path: what is wrong`, exit 2 (the ConfigError reaches the top-level catch).
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
      const { loadConfig } = await import('../config/load.js');
      const config = await loadConfig(options.config);
      const count = config.jobs.length;
      process.stdout.write(`${options.config}: ok (${count} ${count === 1 ? 'job' : 'jobs'})\n`);
    });
}
