/** One listener of a sink or source job, as listeners.ts starts and stops it. */
import type { ServedSession } from './serve-endpoint.js';

export interface JobListener {
  job: string;
  transport: 'tcp' | 'tls' | 'stdinserver';
  /** Where it listens (`host:port`, a socket directory). */
  address: string;
  /** The bound port of a tcp or tls listener (the real one when 0 was asked for). */
  port?: number;
  /** The sessions it serves now; the listener adds and removes them. */
  sessions: ReadonlySet<ServedSession>;
  /** Stops accepting and tears down what is still open (listeners.ts ends the sessions first). */
  close(): Promise<void>;
}
