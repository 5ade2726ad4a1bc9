/**
 * The control contract: what `zferry status` and `zferry signal` ask of a running daemon over
 * its control socket (control-server.ts serves it, control-client.ts calls it). docs/control.md
 * is generated from it.
 */
import { z } from 'zod';
import { defineContract, endpoint } from '../rpc/index.js';
import { daemonStatusSchema } from './status-schema.js';

/** A job's name as the config gives it; the daemon says whether it runs one. */
const jobName = z.string().min(1).max(255).describe("the job's `name` in the config");

/** The status of a daemon with many jobs and filesystems is far larger than a request: answers are limited by the connection only. */
const SMALL_REQUEST_BYTES = 4096;

export const controlContract = defineContract('zferry.control.v1', {
  hello: endpoint({
    description:
      "Who serves the socket: the daemon's version, process id, start time and config file. Cheap; a daemon starting on a socket that answers it names this pid in its refusal.",
    maxRequestBytes: SMALL_REQUEST_BYTES,
    request: z.object({}),
    response: z.object({
      version: z.string().describe("zferry's version"),
      pid: z.number().int().nonnegative(),
      startedAt: z.string().describe('ISO-8601 (UTC)'),
      config: z.string().describe('the config file the daemon runs'),
    }),
  }),
  status: endpoint({
    description: 'The daemon and every job it runs, as `zferry status --json` prints it.',
    errors: ['CONTROL_STATUS_INVALID'],
    maxRequestBytes: SMALL_REQUEST_BYTES,
    request: z.object({}),
    response: daemonStatusSchema,
  }),
  signal: endpoint({
    description:
      '`wakeup`: run the job now, as if its schedule fired (a tick while it runs is skipped, as any tick). ' +
      '`reset`: cancel its current invocation: its transfers stop and every target stays at its last complete snapshot; nothing happens when none runs. ' +
      'Answers once the daemon has taken the signal, not when the run ends.',
    errors: ['UNKNOWN_JOB', 'JOB_NOT_TRIGGERABLE'],
    maxRequestBytes: SMALL_REQUEST_BYTES,
    request: z.object({ action: z.enum(['wakeup', 'reset']), job: jobName }),
    response: z.object({}),
  }),
});

export type ControlContract = typeof controlContract;
export type SignalAction = 'wakeup' | 'reset';
