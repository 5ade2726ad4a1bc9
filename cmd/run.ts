/**
 * `zferry run JOB [--config FILE]`: one invocation of a job of the config, in the foreground
 * (for system cron), the same invocation a daemon's schedule starts. It prints a summary like
 * `zferry push` (`--json`: on stdout) and exits as the one-shot CLI does: 0 everything
 * replicated, 1 something failed, 2 usage or configuration error, 130/143 interrupted. While
 * a daemon (or anyone) replicates into the same target, the target lock refuses the run.
 */
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../config/types.js';
import type { InvocationResult } from '../daemon/invocation.js';
import { InterruptedError, JobFailedError, UsageError } from './errors.js';
import { abortOnSignals } from './interrupt.js';
import { humanSummary } from './output.js';

interface RunOptions {
  config: string;
  json?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one job of the config file once, now, in the foreground')
    .argument('<job>', 'the job name')
    .option('--config <file>', 'the configuration file', DEFAULT_CONFIG_FILE)
    .option('--json', 'print a machine-readable summary on stdout')
    .action(async (name: string, options: RunOptions) => {
      await runJob(name, options);
    });
}

async function runJob(name: string, options: RunOptions): Promise<void> {
  const [{ loadConfig }, { createDaemonLogger }, { startInvocation }, { EndpointOpener }, { recoverHost }] = await Promise.all([
    import('../config/load.js'),
    import('../daemon/logger.js'),
    import('../daemon/run-once.js'),
    import('../replication/endpoint/open.js'),
    import('../daemon/host-recovery.js'),
  ]);
  const config = await loadConfig(options.config);
  const job = config.jobs.find((candidate) => candidate.name === name);
  if (job === undefined) {
    const names = config.jobs.map((candidate) => candidate.name);
    throw new UsageError(`${options.config} has no job named '${name}'${names.length > 0 ? ` (jobs: ${names.join(', ')})` : ''}`);
  }
  if (job.type === 'sink' || job.type === 'source') throw new UsageError(`job '${name}' is a ${job.type}: it serves others' requests and has nothing to run`);
  const { logger: base, close } = await createDaemonLogger(config.global.logging, { levelOverride: process.env.ZFERRY_LOG_LEVEL });
  const logger = base.child({ job: name });
  try {
    await recoverHost(config.global.stateDir, logger);
    const invocation = await startInvocation({ config, job, logger, opener: new EndpointOpener({ logger }) });
    const controller = new AbortController();
    controller.signal.addEventListener('abort', () => invocation.abort(controller.signal.reason as Error));
    const interrupts = abortOnSignals(controller, logger);
    const result = await invocation.result;
    report(name, result, options.json === true);
    if (interrupts.received !== undefined) throw new InterruptedError(interrupts.received);
    if (result.outcome === 'failed') throw new JobFailedError(`job ${name} failed`);
  } finally {
    await close();
  }
}

function report(name: string, result: InvocationResult, json: boolean): void {
  if (json) {
    const output = {
      job: name,
      outcome: result.outcome,
      attempts: result.attempts,
      ...(result.error !== undefined ? { error: result.error } : {}),
      runs: result.summaries,
      runErrors: result.runErrors,
    };
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return;
  }
  const lines: string[] = [];
  for (const summary of result.summaries) lines.push(...humanSummary(summary));
  for (const error of result.runErrors) lines.push(`${error.source} -> ${error.target}: failed [${error.code}]: ${error.message}`);
  if (result.summaries.length === 0 && result.runErrors.length === 0 && result.error !== undefined)
    lines.push(`failed [${result.error.code}]: ${result.error.message}`);
  if (result.attempts > 1) lines.push(`(${result.attempts} attempts)`);
  if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
}
