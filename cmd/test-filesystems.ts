/**
 * `zferry test filesystems JOB [--input FS] [--config F] [--json]`: what a job's `filesystems`
 * filter selects, and why. With `--input`, the verdict on that one name (no zfs involved);
 * without, every filesystem below the filter's roots on the job's source side (this host for
 * push, snap and source jobs and for a pull from a local source job; the remote host, over
 * ssh, for a pull from there), each marked selected or not with the deciding rule.
 */
import type { Command } from 'commander';
import { filterRoots } from '../config/filesystem-filter.js';
import { DEFAULT_CONFIG_FILE, type Config, type JobConfig, type SshConnect } from '../config/types.js';
import { UnknownJobError } from '../daemon/control-errors.js';
import { DEFAULT_REMOTE_COMMAND, type EndpointSpec } from '../replication/endpoint/spec.js';
import { validateFilesystemName } from '../replication/zfs/names.js';
import { UsageError } from './errors.js';
import { judgeFilesystem, type FilterVerdict, type NamedFilter } from './filter-verdict.js';
import { createLogger } from './logger.js';

interface TestFilesystemsOptions {
  config: string;
  input?: string;
  json?: boolean;
}

/** Where the filtered filesystems live, and the filters they pass. */
interface FilterSide {
  filters: NamedFilter[];
  /** `this host`, or `user@host` over ssh. */
  where: string;
  /** How to list there, for a dataset. */
  spec: (dataset: string) => EndpointSpec;
}

export interface TestFilesystemsReport {
  job: string;
  type: JobConfig['type'];
  /** Where the filesystems were listed (absent with --input). */
  where?: string;
  /** Where the listing started: the filter's including rules below no other (absent with --input). */
  roots?: string[];
  /** Roots that do not exist there. */
  missingRoots?: string[];
  filesystems: FilterVerdict[];
}

export function registerTestFilesystems(program: Command): void {
  const test = program.command('test').description("check parts of the daemon's configuration without running it");
  test
    .command('filesystems')
    .description("show which filesystems a job's filter selects, and by which rule")
    .argument('<job>', "the job's name in the config")
    .option('--config <file>', 'the configuration file', DEFAULT_CONFIG_FILE)
    .option('--input <filesystem>', 'judge this filesystem name only (it need not exist)')
    .option('--json', 'print the report as JSON on stdout')
    .action(async (jobName: string, options: TestFilesystemsOptions) => {
      const { loadConfig } = await import('../config/load.js');
      const config = await loadConfig(options.config);
      const job = config.jobs.find((candidate) => candidate.name === jobName);
      if (job === undefined)
        throw new UnknownJobError(
          jobName,
          config.jobs.map((candidate) => candidate.name),
          options.config,
        );
      const side = filterSide(config, job);
      let report: TestFilesystemsReport;
      if (options.input !== undefined) {
        validateFilesystemName(options.input);
        report = { job: job.name, type: job.type, filesystems: [judgeFilesystem(side.filters, options.input)] };
      } else {
        report = { job: job.name, type: job.type, ...(await listAndJudge(side)) };
      }
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report, options.input !== undefined).join('\n')}\n`);
    });
}

function filterSide(config: Config, job: JobConfig): FilterSide {
  const local = (dataset: string): EndpointSpec => ({ kind: 'local', dataset });
  switch (job.type) {
    case 'push':
    case 'snap':
    case 'source':
      return { filters: [{ rules: job.filesystems }], where: 'this host', spec: local };
    case 'sink':
      throw new UsageError(`job ${JSON.stringify(job.name)} is a sink: it has no filesystems filter (it receives below its root_fs what its clients send)`);
    case 'pull': {
      if (job.connect.type === 'ssh') {
        const ssh = job.connect;
        return {
          filters: [{ rules: job.filesystems }],
          where: `${ssh.user === undefined ? '' : `${ssh.user}@`}${ssh.host}`,
          spec: (dataset) => sshSpec(ssh, dataset),
        };
      }
      if (job.connect.type !== 'local') throw new UsageError(`job ${JSON.stringify(job.name)} pulls over ${job.connect.type}: ask the source's own daemon`);
      const { listenerName } = job.connect;
      const source = config.jobs.find(
        (candidate) => candidate.type === 'source' && candidate.serve.type === 'local' && candidate.serve.listenerName === listenerName,
      );
      if (source === undefined || source.type !== 'source')
        throw new UsageError(`job ${JSON.stringify(job.name)} pulls from listener ${listenerName}, which no source job serves`);
      // The source's filter decides what it serves; the pull's own, if any, narrows it.
      const filters: NamedFilter[] = [{ label: `source job ${JSON.stringify(source.name)}`, rules: source.filesystems }];
      if (job.filesystems.length > 0) filters.push({ label: `job ${JSON.stringify(job.name)}`, rules: job.filesystems });
      return { filters, where: 'this host', spec: local };
    }
  }
}

function sshSpec(connect: SshConnect, dataset: string): EndpointSpec {
  return {
    kind: 'ssh',
    host: connect.host,
    ...(connect.user === undefined ? {} : { user: connect.user }),
    ...(connect.port === undefined ? {} : { port: connect.port }),
    ...(connect.identityFile === undefined ? {} : { identityFile: connect.identityFile }),
    options: connect.options,
    remoteCommand: connect.remoteCommand ?? DEFAULT_REMOTE_COMMAND,
    dataset,
  };
}

/** Lists the filesystems below the first filter's roots (one `zfs get` per root) and judges each. */
async function listAndJudge(side: FilterSide): Promise<Omit<TestFilesystemsReport, 'job' | 'type'>> {
  const [first] = side.filters;
  const roots = filterRoots(first?.rules ?? []);
  if (roots.includes('')) {
    throw new UsageError('the filter selects every filesystem of every pool ("<": true): give --input FILESYSTEM to judge one');
  }
  if (roots.length === 0) return { where: side.where, roots, missingRoots: [], filesystems: [] };
  const logger = await createLogger('quiet');
  const { EndpointOpener } = await import('../replication/endpoint/open.js');
  const opener = new EndpointOpener({ logger });
  const names: string[] = [];
  const missingRoots: string[] = [];
  // Over ssh one connection serves every root.
  const endpoint = opener.open(side.spec(roots[0]!));
  try {
    for (const root of roots) {
      const tree = await endpoint.client.listVersionTree({ root, recursive: true });
      if (!tree.exists) missingRoots.push(root);
      for (const filesystem of tree.filesystems) names.push(filesystem.name);
    }
  } finally {
    await endpoint.close();
  }
  return { where: side.where, roots, missingRoots, filesystems: names.map((name) => judgeFilesystem(side.filters, name)) };
}

export function renderReport(report: TestFilesystemsReport, single: boolean): string[] {
  if (single) return report.filesystems.map((verdict) => `${verdict.filesystem}: ${verdict.selected ? 'selected' : 'not selected'}: ${verdict.reason}`);
  const lines = [`job ${report.job} (${report.type}): the filesystems on ${report.where ?? 'this host'} below ${(report.roots ?? []).join(', ') || 'no root'}`];
  for (const root of report.missingRoots ?? []) lines.push(`  ${root}: no such filesystem`);
  const width = Math.max(0, ...report.filesystems.map((verdict) => verdict.filesystem.length));
  for (const verdict of report.filesystems) {
    lines.push(`  ${(verdict.selected ? 'selected' : 'not selected').padEnd(12)}  ${verdict.filesystem.padEnd(width)}  ${verdict.reason}`);
  }
  const selected = report.filesystems.filter((verdict) => verdict.selected).length;
  const count = report.filesystems.length;
  lines.push(`${count} filesystem${count === 1 ? '' : 's'}, ${selected} selected`);
  return lines;
}
