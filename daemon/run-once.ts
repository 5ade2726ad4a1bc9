/**
 * `zferry run JOB`: the daemon's own invocation of one job, started once, outside the
 * daemon: the same plan, checks and job runner as a scheduled tick.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import type { Config, PullJob, PushJob, SnapJob } from '../config/types.js';
import type { EndpointOpener } from '../replication/endpoint/open.js';
import { checkDaemonConfig } from './daemon-config.js';
import type { JobInvocation } from './daemon-job.js';
import { Invocation } from './invocation.js';
import { listenersOf } from './job-plan.js';
import { JobNameStore, rememberJobs } from './job-names.js';
import { SnapInvocation } from './snap-invocation.js';

export interface RunOnceOptions {
  config: Config;
  job: PushJob | PullJob | SnapJob;
  /** Carries `job`. */
  logger: Logger;
  opener: EndpointOpener;
}

/** Checks the config as the daemon does (throws DaemonConfigError), records the job names, and starts the invocation. */
export async function startInvocation(options: RunOnceOptions): Promise<JobInvocation> {
  const { config, job, logger, opener } = options;
  const names = new JobNameStore(config.global.stateDir);
  const remembered = await names.load((message) => logger.warn(message));
  checkDaemonConfig(config, remembered, names.file);
  const listeners = listenersOf(config.jobs);
  await names.save(rememberJobs(remembered, config.jobs, listeners)).catch((error: unknown) => {
    logger.warn({ err: error, file: names.file }, 'cannot record the job names (renames will not be caught)');
  });
  if (job.type === 'snap') return new SnapInvocation({ job, opener, logger, trigger: 'run' });
  return new Invocation({ job, listeners, opener, hostname: os.hostname(), logger, trigger: 'run', estimateSizes: false, retryTargetBusy: false });
}
