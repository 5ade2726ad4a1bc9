/**
 * `zferry prune JOB [--config FILE] [--dry-run] [--json]`: the job's pruning, now: per side and
 * filesystem every snapshot with keep or destroy and the rule or guard that decided it (a table
 * on stdout, or JSON), and without --dry-run the destroys it printed. The daemon decides the
 * same way after each run and logs the same decisions. Exit 0 done, 1 something failed or was
 * left in place, 2 unknown job or configuration error.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../config/types.js';
import type { PruneSideResult } from '../replication/job/prune-side.js';
import { JobFailedError, UsageError } from './errors.js';

interface PruneOptions {
  config: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description("apply a job's pruning rules now: print every snapshot's keep/destroy decision and destroy (unless --dry-run)")
    .argument('<job>', 'the job name')
    .option('--config <file>', 'the configuration file', DEFAULT_CONFIG_FILE)
    .option('--dry-run', 'decide and print, destroy nothing')
    .option('--json', 'print the decisions as JSON on stdout')
    .action(async (name: string, options: PruneOptions) => {
      await pruneJob(name, options);
    });
}

async function pruneJob(name: string, options: PruneOptions): Promise<void> {
  const [{ loadConfig }, { createDaemonLogger }, { checkDaemonConfig }, { listenersOf }, prune, { EndpointOpener }, { JobNameStore }] = await Promise.all([
    import('../config/load.js'),
    import('../daemon/logger.js'),
    import('../daemon/daemon-config.js'),
    import('../daemon/job-plan.js'),
    import('../daemon/prune.js'),
    import('../replication/endpoint/open.js'),
    import('../daemon/job-names.js'),
  ]);
  const config = await loadConfig(options.config);
  const job = config.jobs.find((candidate) => candidate.name === name);
  if (job === undefined) {
    const names = config.jobs.map((candidate) => candidate.name);
    throw new UsageError(`${options.config} has no job named '${name}'${names.length > 0 ? ` (jobs: ${names.join(', ')})` : ''}`);
  }
  if (!prune.prunes(job)) throw new UsageError(`job '${name}' has no pruning rules`);
  const dryRun = options.dryRun === true;
  const { logger: base, close } = await createDaemonLogger(config.global.logging, { levelOverride: process.env.ZFERRY_LOG_LEVEL });
  const logger = base.child({ job: name });
  try {
    // Checked as the daemon checks it (rules, plan, renames), without recording anything.
    const names = new JobNameStore(config.global.stateDir);
    checkDaemonConfig(config, await names.load((message) => logger.warn(message)), names.file);
    const opener = new EndpointOpener({ logger });
    const sides = await prune.pruneSidesOf(job, listenersOf(config.jobs), os.hostname(), dryRun, opener);
    const results = await prune.pruneSides(sides, opener, logger);
    process.stdout.write(options.json === true ? `${JSON.stringify({ job: name, dryRun, sides: results }, null, 2)}\n` : table(results, dryRun));
    const leftInPlace = results.some((side) => side.filesystems.some((fs) => fs.refused.length > 0));
    if (prune.pruningFailed(results) || leftInPlace) throw new JobFailedError(`pruning of job ${name} failed`);
  } finally {
    await close();
  }
}

/** Per side and filesystem: each snapshot, keep or destroy, and why. */
function table(results: readonly PruneSideResult[], dryRun: boolean): string {
  const lines: string[] = [];
  for (const side of results) {
    if (side.error !== undefined) lines.push(`${side.side} ${side.root}: failed [${side.error.code}]: ${side.error.message}`);
    for (const fs of side.filesystems) {
      lines.push(`${side.side} ${fs.filesystem}${fs.note !== undefined ? ` (${fs.note})` : ''}`);
      const width = Math.max(8, ...fs.decisions.map((d) => d.snapshot.length));
      for (const d of fs.decisions) {
        const done = d.action === 'destroy' && !dryRun ? (fs.destroyed.includes(d.snapshot) ? '' : ' (not destroyed)') : '';
        lines.push(`  ${d.snapshot.padEnd(width)}  ${d.action.padEnd(7)}  ${d.reason}${done}`);
      }
      for (const refused of fs.refused) lines.push(`  ${refused.name}: left in place: ${refused.reason}`);
      if (fs.error !== undefined) lines.push(`  failed [${fs.error.code}]: ${fs.error.message}`);
    }
  }
  const destroy = results.reduce((sum, side) => sum + side.filesystems.reduce((n, fs) => n + fs.decisions.filter((d) => d.action === 'destroy').length, 0), 0);
  lines.push(dryRun ? `dry run: ${destroy} snapshot(s) would be destroyed` : `${destroy} snapshot(s) destroyed`);
  return `${lines.join('\n')}\n`;
}
