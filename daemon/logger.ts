/**
 * The daemon's logger: pino, one stream per `global.logging` outlet. A `stdout` outlet writes
 * to stderr (stdout may carry RPC), pretty on a terminal and JSON lines otherwise (`format`
 * decides when set); a `file` outlet appends to its path. Lines about a job carry `job` and
 * lines about a filesystem `filesystem` too: callers make child loggers for both.
 */
import { once } from 'node:events';
import { destination, multistream, pino, type DestinationStream, type Level, type Logger, type StreamEntry } from 'pino';
import type { LoggingOutlet, LogLevel } from '../config/types.js';

export interface DaemonLogger {
  logger: Logger;
  /** Flushes the file outlets and closes them. */
  close: () => Promise<void>;
}

/** What the daemon logs when the config names no outlet. */
export const DEFAULT_OUTLETS: readonly LoggingOutlet[] = [{ type: 'stdout', level: 'info', format: 'auto' }];

const ORDER: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

export interface DaemonLoggerOptions {
  /** Overrides the level of the `stdout` outlets (ZFERRY_LOG_LEVEL). */
  levelOverride?: string | undefined;
  /** Whether stderr is a terminal (default: process.stderr.isTTY). */
  tty?: boolean;
  name?: string;
}

export async function createDaemonLogger(outlets: readonly LoggingOutlet[], options: DaemonLoggerOptions = {}): Promise<DaemonLogger> {
  const tty = options.tty ?? process.stderr.isTTY === true;
  const override = ORDER.find((level) => level === options.levelOverride);
  const entries: StreamEntry<Level>[] = [];
  const files: ReturnType<typeof destination>[] = [];
  for (const outlet of outlets.length > 0 ? outlets : DEFAULT_OUTLETS) {
    const level = outlet.type === 'stdout' && override !== undefined ? override : outlet.level;
    if (outlet.type === 'stdout') {
      const human = outlet.format === 'human' || (outlet.format === 'auto' && tty);
      entries.push({ level, stream: human ? await prettyStream(2, tty) : destination({ dest: 2, sync: true }) });
    } else {
      const file = destination({ dest: outlet.path, sync: true, mkdir: true });
      files.push(file);
      entries.push({ level, stream: outlet.format === 'human' ? await prettyStream(file, false) : file });
    }
  }
  const lowest = entries.map((entry) => entry.level ?? 'info').sort((a, b) => ORDER.indexOf(a as LogLevel) - ORDER.indexOf(b as LogLevel))[0] ?? 'info';
  const logger = pino({ name: options.name ?? 'zferry', level: lowest }, multistream(entries));
  return {
    logger,
    close: async () => {
      for (const file of files) {
        file.flushSync();
        file.end();
        await once(file, 'close').catch(() => undefined);
      }
    },
  };
}

/** pino-pretty is loaded only for a human outlet: JSON-only daemons do not pay its start-up. */
async function prettyStream(dest: number | DestinationStream, colorize: boolean): Promise<DestinationStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({ destination: dest, sync: true, colorize, ignore: 'pid,hostname,name', translateTime: 'SYS:yyyy-mm-dd HH:MM:ss' });
}
