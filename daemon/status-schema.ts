/**
 * DaemonStatus (status-types.ts) as a zod schema: the control client checks what the daemon
 * answers against it, the daemon checks what it is about to send, and docs/control.md is
 * generated from it. The type checks at the end keep it and status-types.ts the same shape.
 */
import { z } from 'zod';
import type { DaemonStatus } from './status-types.js';

const isoTime = z.string().min(1).max(64).meta({ id: 'Time', description: 'an ISO-8601 time in UTC, as `2025-03-01T12:00:00.000Z`' });
const nonNegative = z.number().finite().nonnegative();
const count = z.number().int().nonnegative();
const errorView = z.object({ code: z.string(), message: z.string() });

const invocation = z
  .object({
    trigger: z
      .enum(['schedule', 'wakeup', 'start', 'run'])
      .describe('what started it: its schedule, `wakeup` (zferry signal), `start` (run at daemon start) or `run`'),
    startedAt: isoTime,
    endedAt: isoTime.exactOptional().describe('absent while it runs'),
    outcome: z
      .enum(['ok', 'failed', 'interrupted'])
      .exactOptional()
      .describe(
        "once ended: `ok` every filesystem replicated, `failed` something failed (see `error` and the filesystems'), `interrupted` a shutdown or reset stopped it",
      ),
    attempts: count.describe('attempts made: transient failures (connection lost, remote busy) retry with backoff'),
    bytes: count.describe('bytes sent, all filesystems together'),
    error: errorView.exactOptional().describe('why it failed, when it did'),
  })
  .meta({ id: 'InvocationView', description: 'one invocation of a job: the one going on, or the last that ended' });

const filesystem = z
  .object({
    source: z.string().describe('the filesystem replicated (for a snap job: snapshotted)'),
    target: z.string().describe('where it lands'),
    state: z.string().describe('pending, running, verifying, done, skipped, failed or interrupted'),
    step: z.string().exactOptional().describe('the step running now, in words (`full @a`, `incremental @a → @b`)'),
    stepsDone: count.describe('steps done in the current (or last) run'),
    stepsTotal: count.describe('steps planned in the current (or last) run'),
    bytes: count.describe('bytes sent in the current (or last) run'),
    bytesTotal: count.exactOptional().describe("the running step's stream size, where the sender can tell"),
    stepBytes: count
      .exactOptional()
      .describe('bytes of the running step so far: what `bytesTotal` and `etaSeconds` measure against (`bytes` counts the whole run)'),
    rate: nonNegative.describe('bytes per second over the last few seconds'),
    etaSeconds: nonNegative.exactOptional().describe('seconds left for the running step, where its size is known'),
    lastReplicated: z
      .object({
        snapshot: z.string().describe('its full name, `pool/fs@name`'),
        at: isoTime.describe('its creation time when known, else when it was replicated'),
        ageSeconds: nonNegative.describe('seconds since `at`, when the status was taken'),
      })
      .exactOptional()
      .describe("the newest snapshot known to be on the target, and its age (from the snapshot's creation time when known, else the replication time)"),
    lastError: z
      .object({ code: z.string(), message: z.string(), at: isoTime.describe('when it happened') })
      .exactOptional()
      .describe('the last error, kept until a run of this filesystem succeeds'),
    late: z
      .boolean()
      .exactOptional()
      .describe(
        'jobs with an `rpo`: whether its newest replicated snapshot (`lastReplicated`) is older than the rpo (never replicated: counted from when the job first saw it)',
      ),
  })
  .meta({
    id: 'FilesystemStatusView',
    description: "one filesystem of a job: the current invocation's where one runs, else the last one's, with what is remembered across runs",
  });

const job = z
  .object({
    name: z.string().describe("the job's `name` in the config"),
    type: z.enum(['push', 'pull', 'sink', 'source', 'snap']),
    state: z
      .enum(['idle', 'running', 'serving', 'stopping'])
      .describe(
        '`idle` waits for its next run, `running` an invocation is going, `serving` a sink or source, `stopping` a reset or shutdown is ending its invocation',
      ),
    schedule: z.string().exactOptional().describe('the schedule in words: `every 10m`, `cron 0 3 * * * (Europe/Berlin)`, `manual`; absent for sink and source'),
    nextRunAt: isoTime.exactOptional().describe('when the next scheduled run starts; absent when manual, passive or stopping'),
    skippedTicks: count.describe('ticks that came while an invocation was still running, since the daemon started'),
    lastSkippedAt: isoTime.exactOptional().describe('when the last tick was skipped'),
    current: invocation.exactOptional().describe('the invocation going on now'),
    last: invocation.exactOptional().describe('the last invocation that ended'),
    filesystems: z.array(filesystem).describe('empty for a sink or source, and for a job that has not run yet'),
    rpo: z.string().exactOptional().describe("a push or pull job's `rpo` (`2h`): a filesystem whose newest replicated snapshot is older is late"),
    late: count.exactOptional().describe('with `rpo`: how many of its filesystems are late now'),
  })
  .meta({ id: 'JobStatusView', description: 'one job of the daemon' });

const connection = z
  .object({
    job: z.string().describe('the sink or source job'),
    identity: z.string().describe('who the listener authenticated the client as: its `clients` entry, certificate CN or stdinserver identity'),
    transport: z.enum(['tcp', 'tls', 'stdinserver']),
    peer: z.string().describe("the client's address, as the transport knows it"),
    since: isoTime.describe('when it connected'),
  })
  .meta({ id: 'ServedConnectionView', description: 'one open connection of a client to a sink or source job' });

export const daemonStatusSchema = z
  .object({
    version: z.string().describe("zferry's version"),
    pid: count.describe("the daemon's process id"),
    startedAt: isoTime.describe('when the daemon started'),
    config: z.string().describe('the config file the daemon runs (after the last successful reload)'),
    configLoadedAt: isoTime.describe('when the config was last loaded (at start or on SIGHUP)'),
    jobs: z.array(job),
    connections: z
      .array(connection)
      .exactOptional()
      .describe('the clients sink and source jobs serve now over tcp, tls or stdinserver; present where some job listens'),
  })
  .meta({ id: 'DaemonStatus', description: 'the daemon and every job it runs; times are ISO-8601 (UTC), durations and ages seconds, sizes bytes' });

// The schema and status-types.ts describe one shape: each must accept the other's values.
type SchemaStatus = z.output<typeof daemonStatusSchema>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const shapesAgree: Same<SchemaStatus, DaemonStatus> = true;
void shapesAgree;
