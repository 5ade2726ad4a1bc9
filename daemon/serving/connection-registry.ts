/**
 * The clients a daemon's sink and source jobs serve right now: one entry per open connection,
 * with its job, identity and transport. `zferry status` lists them (DaemonStatus.connections)
 * and the metrics count them per job and identity through onConnectionChange.
 */

export type ServedTransport = 'tcp' | 'tls' | 'stdinserver';

export interface ServedConnection {
  job: string;
  identity: string;
  transport: ServedTransport;
  /** The client's address (`host:port`), or what the transport knows of it. */
  peer: string;
  /** When it connected (ms since the epoch). */
  since: number;
}

export interface ConnectionChange {
  change: 'opened' | 'closed';
  connection: ServedConnection;
  /** Connections of the same job and identity open after the change. */
  open: number;
}

export type ConnectionChangeListener = (event: ConnectionChange) => void;

export class ConnectionRegistry {
  readonly #open = new Set<ServedConnection>();
  readonly #listeners = new Set<ConnectionChangeListener>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Records an opened connection; the returned function records its end (once). */
  opened(entry: Omit<ServedConnection, 'since'>): () => void {
    const connection: ServedConnection = { ...entry, since: this.#now() };
    this.#open.add(connection);
    this.#emit('opened', connection);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.#open.delete(connection);
      this.#emit('closed', connection);
    };
  }

  connections(): ServedConnection[] {
    return [...this.#open].map((connection) => ({ ...connection }));
  }

  /** Open connections of one job (and identity). */
  count(job: string, identity?: string): number {
    let count = 0;
    for (const connection of this.#open) if (connection.job === job && (identity === undefined || connection.identity === identity)) count += 1;
    return count;
  }

  /** Tells `listener` of every connection opened or closed from now on; returns the unsubscribe. */
  onConnectionChange(listener: ConnectionChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(change: ConnectionChange['change'], connection: ServedConnection): void {
    const event = { change, connection: { ...connection }, open: this.count(connection.job, connection.identity) };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure (the metrics) must not end a client's session.
      }
    }
  }
}
