/**
 * The contenders: the bare `zfs send | zfs recv -u` pipelines (the baseline), zferry and
 * syncoid, each able to replicate the same task locally or into the throwaway sshd.
 * Every run is verified afterwards by the scenario (guids), not trusted by exit code.
 */

import { checkCommand, checkScript, shellLine, type CommandOptions } from './command.js';
import { ReplicaMismatchError } from './errors.js';

/** What one filesystem needs: `send` (oldest first) on top of `base` (already on the target). */
export interface FilesystemWork {
  source: string;
  target: string;
  /** Short name of the newest snapshot the target already has; none: start with a full send. */
  base?: string;
  /** Short names of the snapshots to send, oldest first. */
  send: readonly string[];
}

export interface ReplicationTask {
  source: string;
  target: string;
  recursive: boolean;
  /** Every filesystem, parents first: what a script that knows the names would run. */
  work: readonly FilesystemWork[];
}

/** The throwaway sshd: where the "remote" target lives. */
export interface RemoteHost {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  cipher: string;
  /** ssh -o options that make the client non-interactive (throwaway host keys). */
  clientOptions: readonly string[];
}

export interface ReplicationRun {
  ms: number;
  /** CPU time of the contender's own processes on this host (see CommandOptions.cpu). */
  cpuMs?: number;
}

function runOf(result: { ms: number; cpuMs?: number }): ReplicationRun {
  return result.cpuMs !== undefined ? { ms: result.ms, cpuMs: result.cpuMs } : { ms: result.ms };
}

export interface Replicator {
  /** Short id for the JSON summary, e.g. `zferry-j4-ssh`. */
  readonly id: string;
  /** What the table shows. */
  readonly label: string;
  replicate(task: ReplicationTask, options?: CommandOptions): Promise<ReplicationRun>;
}

// ------------------------------------------------------------------ bare pipelines

export interface BareOptions {
  remote?: RemoteHost;
  /** One `zfs send -I` for all snapshots after the first instead of one `-i` per snapshot. */
  batch?: boolean;
}

/** The shell script the baseline runs: sequential pipelines, names known in advance. */
export function barePipelineScript(task: ReplicationTask, options: BareOptions = {}): string {
  const receive = (target: string): string => {
    const recv = ['zfs', 'recv', '-u', target];
    if (!options.remote) return shellLine(recv);
    const { remote } = options;
    const ssh = ['ssh', '-c', remote.cipher, '-p', String(remote.port), '-i', remote.identityFile, ...remote.clientOptions.flatMap((o) => ['-o', o])];
    // ssh hands the remote command to the remote shell as one line.
    return shellLine([...ssh, `${remote.user}@${remote.host}`, shellLine(recv)]);
  };
  const lines: string[] = [];
  for (const fs of task.work) {
    let from = fs.base;
    const sends = options.batch && fs.send.length > 0 ? batched(fs) : fs.send.map((to) => ({ to, intermediates: false }));
    for (const { to, intermediates } of sends) {
      const send = ['zfs', 'send', ...(from !== undefined ? [intermediates ? '-I' : '-i', `@${from}`] : []), `${fs.source}@${to}`];
      lines.push(`${shellLine(send)} | ${receive(fs.target)}`);
      from = to;
    }
  }
  return lines.join('\n');
}

/** Full (when there is no base) of the first snapshot, then one -I to the last. */
function batched(fs: FilesystemWork): { to: string; intermediates: boolean }[] {
  const steps: { to: string; intermediates: boolean }[] = [];
  const rest = [...fs.send];
  if (fs.base === undefined) steps.push({ to: rest.shift() as string, intermediates: false });
  const last = rest.at(-1);
  if (last !== undefined) steps.push({ to: last, intermediates: true });
  return steps;
}

export function bareReplicator(options: BareOptions = {}): Replicator {
  const how = options.batch ? 'zfs send -I' : 'zfs send';
  return {
    id: `bare${options.batch ? '-batch' : ''}${options.remote ? '-ssh' : ''}`,
    label: options.remote ? `${how} | ssh -c ${options.remote.cipher} zfs recv -u` : `${how} | zfs recv -u`,
    async replicate(task, commandOptions) {
      const result = await checkScript(barePipelineScript(task, options), { ...commandOptions, cpu: true });
      return runOf(result);
    },
  };
}

// ------------------------------------------------------------------ zferry

export interface ZferryOptions {
  /** Absolute path of the compiled CLI (dist/zferry.js). */
  cli: string;
  jobs?: number;
  batch?: boolean;
  remote?: RemoteHost;
}

export interface ZferrySummary {
  outcome?: string;
  /** The run itself, from planning to the last cursor moved (no process start-up). */
  durationMs?: number;
  filesystems?: { source?: string; outcome?: string; error?: { message?: string } }[];
}

export function zferryArgv(task: Pick<ReplicationTask, 'source' | 'target' | 'recursive'>, options: ZferryOptions): string[] {
  const argv = [process.execPath, options.cli, 'push', '--json'];
  if (task.recursive) argv.push('-r');
  if (options.jobs !== undefined) argv.push('--jobs', String(options.jobs));
  if (options.batch) argv.push('--batch');
  let destination = task.target;
  const { remote } = options;
  if (remote) {
    argv.push('--ssh-key', remote.identityFile, '--ssh-option', `Ciphers=${remote.cipher}`);
    for (const option of remote.clientOptions) argv.push('--ssh-option', option);
    // The remote side is this very checkout, started by absolute path (no install needed).
    argv.push('--remote-cmd', `${process.execPath} ${options.cli} serve --stdio`);
    destination = `ssh://${remote.user}@${remote.host}:${remote.port}/${task.target}`;
  }
  argv.push(task.source, destination);
  return argv;
}

export function zferryReplicator(options: ZferryOptions): Replicator {
  const flags = [options.jobs !== undefined ? `--jobs ${options.jobs}` : '', options.batch ? '--batch' : ''].filter(Boolean).join(' ');
  return {
    id: `zferry${options.jobs !== undefined ? `-j${options.jobs}` : ''}${options.batch ? '-batch' : ''}${options.remote ? '-ssh' : ''}`,
    label: `zferry push${flags ? ` ${flags}` : ''}${options.remote ? ' (ssh)' : ''}`,
    async replicate(task, commandOptions) {
      const result = await checkCommand(zferryArgv(task, options), { ...commandOptions, cpu: true });
      checkZferrySummary(result.stdout);
      return runOf(result);
    },
  };
}

/** zferry exits 0 only when everything replicated; its summary must say the same. Returns it. */
export function checkZferrySummary(stdout: string): ZferrySummary {
  let summary: ZferrySummary;
  try {
    summary = JSON.parse(stdout) as ZferrySummary;
  } catch (error) {
    throw new ReplicaMismatchError(`zferry --json printed no JSON summary: ${stdout.slice(0, 200)}`, { cause: error });
  }
  const failed = (summary.filesystems ?? []).filter((fs) => fs.outcome === 'failed');
  if (summary.outcome !== 'ok' || failed.length > 0) {
    const first = failed[0];
    throw new ReplicaMismatchError(`zferry reported ${String(summary.outcome)}${first ? `: ${first.source}: ${first.error?.message}` : ''}`);
  }
  return summary;
}

// ------------------------------------------------------------------ syncoid

export interface SyncoidOptions {
  remote?: RemoteHost;
}

/**
 * syncoid as a cron job would run it on existing snapshots: `--no-sync-snap` (replicate the
 * snapshots that are there, take none), `--quiet`; over ssh the same cipher as the others and
 * `--compress=none` (the data is random; the other contenders do not compress either).
 */
export function syncoidArgv(task: Pick<ReplicationTask, 'source' | 'target' | 'recursive'>, options: SyncoidOptions): string[] {
  const argv = ['syncoid', '--no-sync-snap', '--quiet'];
  if (task.recursive) argv.push('--recursive');
  let destination = task.target;
  const { remote } = options;
  if (remote) {
    argv.push('--compress=none', `--sshport=${remote.port}`, `--sshkey=${remote.identityFile}`, `--sshcipher=${remote.cipher}`);
    for (const option of remote.clientOptions) argv.push(`--sshoption=${option}`);
    destination = `${remote.user}@${remote.host}:${task.target}`;
  }
  argv.push(task.source, destination);
  return argv;
}

export function syncoidReplicator(options: SyncoidOptions = {}): Replicator {
  return {
    id: `syncoid${options.remote ? '-ssh' : ''}`,
    label: `syncoid${options.remote ? ' (ssh)' : ''}`,
    async replicate(task, commandOptions) {
      const result = await checkCommand(syncoidArgv(task, options), { ...commandOptions, cpu: true });
      return runOf(result);
    },
  };
}
