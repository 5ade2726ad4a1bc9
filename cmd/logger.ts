/**
 * The process logger. Always stderr: stdout may be the RPC channel (`serve --stdio`) or carry
 * `--json` output. Human-readable on a terminal, JSON lines otherwise.
 */
import { destination, pino, type Level, type Logger } from 'pino';

export type Verbosity = 'quiet' | 'normal' | 'verbose' | 'debug';

const LEVELS: Record<Verbosity, Level> = { quiet: 'error', normal: 'info', verbose: 'debug', debug: 'trace' };

/** pino-pretty is loaded only for a terminal: cron and ssh runs do not pay its start-up. */
export async function createLogger(verbosity: Verbosity = 'normal', name = 'zferry'): Promise<Logger> {
  const level = process.env.ZFERRY_LOG_LEVEL ?? LEVELS[verbosity];
  if (process.stderr.isTTY) {
    const { default: pretty } = await import('pino-pretty');
    return pino({ name, level }, pretty({ destination: 2, sync: true, ignore: 'pid,hostname,name', translateTime: 'HH:MM:ss' }));
  }
  return pino({ name, level }, destination({ dest: 2, sync: true }));
}
