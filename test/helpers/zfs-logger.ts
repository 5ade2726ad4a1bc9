/** A pino logger that keeps its records in memory, for asserting what the driver logged. */
import { Writable } from 'node:stream';
import pino from 'pino';

export interface LogRecord {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export function memoryLogger(level: pino.Level = 'debug'): { logger: pino.Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) records.push(JSON.parse(line) as LogRecord);
      }
      callback();
    },
  });
  return { logger: pino({ level }, sink), records };
}

/** pino's numeric levels. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;
