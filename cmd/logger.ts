/**
 * The process logger. Always stderr: stdout may be the RPC channel (`serve --stdio`) or carry
 * `--json` output. Human-readable on a terminal, JSON lines otherwise.
 */
import { destination, pino, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type Verbosity = 'quiet' | 'normal' | 'verbose' | 'debug';

const LEVELS: Record<Verbosity, Level> = { quiet: 'error', normal: 'info', verbose: 'debug', debug: 'trace' };

export function createLogger(verbosity: Verbosity = 'normal', name = 'zferry'): Logger {
  const level = process.env.ZFERRY_LOG_LEVEL ?? LEVELS[verbosity];
  if (process.stderr.isTTY) {
    return pino({ name, level }, pretty({ destination: 2, sync: true, ignore: 'pid,hostname,name', translateTime: 'HH:MM:ss' }));
  }
  return pino({ name, level }, destination({ dest: 2, sync: true }));
}
