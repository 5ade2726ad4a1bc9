/**
 * The listeners of a config's sink and source jobs (`serve: tcp | tls | stdinserver`; `local`
 * has none: push and pull jobs of the same daemon call it in-process). The daemon applies each
 * config: at start every listener starts, on reload only those whose job (or, for stdinserver,
 * socket directory) changed are restarted, removed jobs' listeners stop; at shutdown all stop.
 * Stopping says GOAWAY to the sessions, gives their calls a moment, then tears down the rest.
 * A job's `bandwidth_limit` is one bucket shared by all its clients, kept here.
 */
import type { Config, JobConfig } from '../../config/types.js';
import { errorMessage } from '../../platform/errors.js';
import type { EndpointBuckets } from '../../replication/endpoint/throttled-endpoint.js';
import { createSharedBucket } from '../../replication/throttle/throttled-stream.js';
import type { JobListener } from './listener-types.js';
import { servedMessageBudget, type ServeContext, type ServedJob } from './serve-endpoint.js';
import { startTcpListener } from './tcp-listener.js';
import { startTlsListener } from './tls-listener.js';
import { startStdinserverListener } from './stdinserver-job-listener.js';

/** Starts one listener of `job` (its `serve.type` chose the starter). */
export type ListenerStarter = (job: ServedJob, context: ServeContext, config: Config) => Promise<JobListener>;

/** How each `serve.type` is listened on. */
const starters = new Map<string, ListenerStarter>([
  ['tcp', (job, context) => startTcpListener(job, job.serve as Extract<ServedJob['serve'], { type: 'tcp' }>, context)],
  ['tls', (job, context) => startTlsListener(job, job.serve as Extract<ServedJob['serve'], { type: 'tls' }>, context)],
  ['stdinserver', (job, context, config) => startStdinserverListener(job, job.serve as Extract<ServedJob['serve'], { type: 'stdinserver' }>, context, config)],
]);

/** How long sessions of a stopping listener may finish their calls before they are cut. */
const STOP_GRACE_MS = 2000;

export class ServingListeners {
  readonly #context: ServeContext;
  /** By job name: the listener and the definition it was started for. */
  readonly #running = new Map<string, { listener: JobListener; definition: string }>();
  #applying: Promise<void> = Promise.resolve();

  /** Each job's bandwidth buckets, shared by its clients; made anew when its listener restarts. */
  readonly #buckets = new Map<string, EndpointBuckets>();

  constructor(context: ServeContext) {
    this.#context = { messageBudget: servedMessageBudget(), ...context, buckets: (job) => this.#bucketsOf(job) };
  }

  #bucketsOf(job: ServedJob): EndpointBuckets {
    let buckets = this.#buckets.get(job.name);
    if (buckets === undefined) {
      const limit = job.bandwidthLimit;
      buckets = limit === undefined ? {} : job.type === 'sink' ? { recv: createSharedBucket(limit) } : { send: createSharedBucket(limit) };
      this.#buckets.set(job.name, buckets);
    }
    return buckets;
  }

  /** Makes the running listeners those of `config` (in turn with other applies and stop()). */
  apply(config: Config): Promise<void> {
    this.#applying = this.#applying.then(() => this.#apply(config));
    return this.#applying;
  }

  /** Stops every listener and its sessions. */
  stop(): Promise<void> {
    this.#applying = this.#applying.then(async () => {
      await Promise.all([...this.#running.keys()].map((name) => this.#stopOne(name)));
    });
    return this.#applying;
  }

  listeners(): JobListener[] {
    return [...this.#running.values()].map((entry) => entry.listener);
  }

  /** The listener of one job, if it runs. */
  listenerOf(job: string): JobListener | undefined {
    return this.#running.get(job)?.listener;
  }

  async #apply(config: Config): Promise<void> {
    const wanted = new Map<string, { job: ServedJob; definition: string }>();
    for (const job of config.jobs) {
      if (!isListening(job)) continue;
      wanted.set(job.name, { job, definition: definitionOf(job, config) });
    }
    const stopping = [...this.#running].filter(([name, entry]) => wanted.get(name)?.definition !== entry.definition).map(([name]) => name);
    await Promise.all(stopping.map((name) => this.#stopOne(name)));
    for (const [name, { job, definition }] of wanted) {
      if (this.#running.has(name)) continue;
      const starter = starters.get(job.serve.type);
      const logger = this.#context.logger.child({ job: name });
      if (starter === undefined) {
        logger.error({ serve: job.serve.type }, `serve type ${job.serve.type} has no listener in this version: job not served`);
        continue;
      }
      try {
        this.#running.set(name, { listener: await starter(job, this.#context, config), definition });
      } catch (error) {
        // The other jobs go on; a reload tries again.
        logger.error({ err: errorMessage(error) }, `cannot serve the job: ${errorMessage(error)}`);
      }
    }
  }

  async #stopOne(name: string): Promise<void> {
    const entry = this.#running.get(name);
    if (entry === undefined) return;
    this.#running.delete(name);
    this.#buckets.delete(name);
    const { listener } = entry;
    const sessions = [...listener.sessions];
    if (sessions.length > 0) {
      this.#context.logger.info({ job: name, sessions: sessions.length }, 'stopping the listener: ending its sessions');
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, STOP_GRACE_MS);
      });
      await Promise.race([Promise.allSettled(sessions.map((session) => session.close())), grace]);
      clearTimeout(timer);
      for (const session of sessions) session.destroy();
    }
    await listener.close();
  }
}

function isListening(job: JobConfig): job is ServedJob {
  return (job.type === 'sink' || job.type === 'source') && job.serve.type !== 'local';
}

/** What a listener depends on: its job's definition (not where it stands in the file), and the stdinserver socket directory. */
function definitionOf(job: ServedJob, config: Config): string {
  const { position: _position, ...rest } = job;
  return JSON.stringify({ job: rest, ...(job.serve.type === 'stdinserver' ? { sockdir: config.global.serve.stdinserver.sockdir } : {}) });
}
