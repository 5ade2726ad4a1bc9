/**
 * Which control socket `zferry status` and `zferry signal` talk to: `--sockpath`, else the
 * config's `global.control.sockpath` (`--config FILE`, else the default config file when it
 * exists), else the default /run/zferry/control.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, DEFAULT_CONTROL_SOCKPATH } from '../config/types.js';
import { UsageError } from './errors.js';

export interface ControlSocketOptions {
  config?: string;
  sockpath?: string;
}

/** `--config` and `--sockpath`, as every command that talks to the daemon takes them. */
export function controlSocketOptions(command: Command): Command {
  return command
    .option('--config <file>', `the daemon's config file: its global.control.sockpath (default ${DEFAULT_CONFIG_FILE}, when it exists)`)
    .option('--sockpath <path>', `the daemon's control socket (default: from the config, else ${DEFAULT_CONTROL_SOCKPATH})`);
}

export async function resolveSockpath(options: ControlSocketOptions, warn: (message: string) => void): Promise<string> {
  if (options.sockpath !== undefined) {
    if (options.config !== undefined) throw new UsageError('give --config or --sockpath, not both');
    return options.sockpath;
  }
  if (options.config !== undefined) return sockpathOf(options.config);
  if (!existsSync(DEFAULT_CONFIG_FILE)) return DEFAULT_CONTROL_SOCKPATH;
  // The default config, unasked for: a config being edited must not keep anyone from seeing the daemon.
  try {
    return await sockpathOf(DEFAULT_CONFIG_FILE);
  } catch (error) {
    warn(`${DEFAULT_CONFIG_FILE} does not load (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); trying ${DEFAULT_CONTROL_SOCKPATH}`);
    return DEFAULT_CONTROL_SOCKPATH;
  }
}

async function sockpathOf(file: string): Promise<string> {
  // Loaded here, not at start-up: zod and yaml stay out of `--sockpath` runs.
  const { loadConfig } = await import('../config/load.js');
  return (await loadConfig(file)).global.control.sockpath;
}
