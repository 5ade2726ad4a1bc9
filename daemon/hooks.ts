/**
 * A job's hooks (config `snapshotting.hooks` and a push or pull job's `hooks`): which of them run
 * at a point (hook type and filesystem), the environment they see, one after the other in the
 * file's order, each logged with its job, filesystem and command. A failed pre hook with
 * `err_is_fatal` stops the hooks after it and tells the caller to skip what it guards; any other
 * failure is logged and the step goes on.
 */
import type { Logger } from 'pino';
import { selectFilesystem } from '../config/filesystem-filter.js';
import type { HookConfig, HookType } from '../config/types.js';
import { runHookProcess, type HookProcessResult } from './hook-process.js';

/** What a hook is told about the point it runs at. */
export interface HookPoint {
  type: HookType;
  job: string;
  /** The filesystem (snapshot hooks), or the replication run's source root. */
  filesystem: string;
  /** Short name (after the `@`) of the snapshot being taken. */
  snapshot?: string;
  /** The replication run's target root. */
  target?: string;
  dryRun?: boolean;
  /** Post hooks: how the step ended. */
  outcome?: 'ok' | 'failed' | 'interrupted';
  /** Post hooks: one line about the step. */
  summary?: string;
  /** Post replication hooks: the run's summary as JSON, on the hook's stdin. */
  stdin?: string;
  /** on_late hooks: went late or recovered, the rpo and the newest replicated snapshot's age (seconds). */
  late?: { state: 'late' | 'recovered'; rpoSeconds: number; newestAgeSeconds?: number };
}

export interface HookFailure {
  hook: string;
  fatal: boolean;
  message: string;
}

export interface HooksRan {
  /** The fatal failure that stopped the hooks (a pre hook's: skip what it guards). */
  fatal?: HookFailure;
  failures: HookFailure[];
}

/** The variables a hook sees (zrepl's ZREPL_* too for snapshot hooks, so its scripts run unchanged). */
export function hookEnvironment(point: HookPoint, hook: Pick<HookConfig, 'timeoutMs'>): Record<string, string> {
  const env: Record<string, string> = {
    ZFERRY_HOOKTYPE: point.type,
    ZFERRY_JOB: point.job,
    ZFERRY_FS: point.filesystem,
    ZFERRY_SNAPNAME: point.snapshot ?? '',
    ZFERRY_DRYRUN: point.dryRun === true ? 'true' : 'false',
    ZFERRY_TIMEOUT: `${Math.ceil(hook.timeoutMs / 1000)}s`,
  };
  if (point.target !== undefined) env.ZFERRY_TARGET = point.target;
  if (point.outcome !== undefined) env.ZFERRY_OUTCOME = point.outcome;
  if (point.summary !== undefined) env.ZFERRY_SUMMARY = point.summary.replace(/[\r\n]+/g, ' ');
  if (point.late !== undefined) {
    env.ZFERRY_LATE_STATE = point.late.state;
    env.ZFERRY_RPO_SECONDS = `${point.late.rpoSeconds}`;
    // Empty: nothing replicated yet.
    env.ZFERRY_NEWEST_AGE_SECONDS = point.late.newestAgeSeconds === undefined ? '' : `${point.late.newestAgeSeconds}`;
  }
  if (point.type === 'pre_snapshot' || point.type === 'post_snapshot') {
    env.ZREPL_HOOKTYPE = point.type;
    env.ZREPL_FS = point.filesystem;
    env.ZREPL_SNAPNAME = point.snapshot ?? '';
    env.ZREPL_DRYRUN = point.dryRun === true ? 'true' : 'false';
    env.ZREPL_TIMEOUT = `${Math.ceil(hook.timeoutMs / 1000)}`;
  }
  return env;
}

/** The hooks that run at `type` for `filesystem`, in the file's order. */
export function hooksAt(hooks: readonly HookConfig[] | undefined, type: HookType, filesystem: string): HookConfig[] {
  return (hooks ?? []).filter(
    (hook) => hook.when.includes(type) && (hook.filesystems === undefined || selectFilesystem(hook.filesystems, filesystem).selected),
  );
}

export function hookName(hook: Pick<HookConfig, 'path' | 'args'>): string {
  return [hook.path, ...hook.args].join(' ');
}

function failureMessage(result: HookProcessResult, hook: HookConfig): string | undefined {
  switch (result.outcome) {
    case 'ok':
      return undefined;
    case 'failed':
      return result.exitCode !== undefined ? `exited with ${result.exitCode}` : `ended by ${result.exitSignal ?? 'a signal'}`;
    case 'timeout':
      return `timed out after ${hook.timeoutMs} ms (its process group was killed)`;
    case 'aborted':
      return 'stopped with the invocation';
    case 'spawn-failed':
      return `could not start: ${result.spawnError ?? 'unknown error'}`;
  }
}

export interface RunHooksOptions {
  logger: Logger;
  /** Ends running hooks early (pre hooks: the invocation stopped). Post hooks run to their timeout. */
  signal?: AbortSignal;
}

/** Runs every hook of `hooks` that applies at `point`, in order; a fatal failure stops the rest. */
export async function runHooks(hooks: readonly HookConfig[] | undefined, point: HookPoint, options: RunHooksOptions): Promise<HooksRan> {
  const failures: HookFailure[] = [];
  for (const hook of hooksAt(hooks, point.type, point.filesystem)) {
    const name = hookName(hook);
    const logger = options.logger.child({ filesystem: point.filesystem, hook: name, hookType: point.type });
    const result = await runHookProcess(hook, {
      env: hookEnvironment(point, hook),
      ...(point.stdin !== undefined ? { stdin: point.stdin } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    const message = failureMessage(result, hook);
    const fields = {
      outcome: result.outcome,
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      ...(result.exitSignal !== undefined ? { exitSignal: result.exitSignal } : {}),
      durationMs: result.durationMs,
      output: result.output,
      ...(result.droppedBytes > 0 ? { outputDroppedBytes: result.droppedBytes } : {}),
    };
    if (message === undefined) {
      logger.info(fields, 'hook ran');
      continue;
    }
    const failure = { hook: name, fatal: hook.errIsFatal, message };
    failures.push(failure);
    if (result.outcome === 'aborted') {
      logger.warn(fields, `hook ${message}`);
      return { fatal: failure, failures };
    }
    if (hook.errIsFatal) {
      logger.error(fields, `hook failed (err_is_fatal): ${message}`);
      return { fatal: failure, failures };
    }
    logger.warn(fields, `hook failed (not fatal, going on): ${message}`);
  }
  return { failures };
}

/**
 * What the snapshot step asks of the hooks (daemon/take-snapshots.ts): pre hooks per filesystem
 * before the one snapshot call, post hooks per filesystem after it (also when it failed).
 */
export interface SnapshotHooks {
  /** Runs the pre hooks; resolves with the filesystems a fatal failure excludes from the snapshot. */
  before(filesystems: readonly string[], snapshot: string): Promise<Set<string>>;
  after(filesystems: readonly string[], snapshot: string, outcome: 'ok' | 'failed'): Promise<void>;
}

/** A snapshot step's hooks, with the fatal failures it saw (the invocation fails when there are any). */
export interface SnapshotHookRunner extends SnapshotHooks {
  readonly fatalFailures: ReadonlyArray<HookFailure & { filesystem: string }>;
}

export function snapshotHooks(job: string, hooks: readonly HookConfig[] | undefined, options: RunHooksOptions): SnapshotHookRunner {
  const fatalFailures: Array<HookFailure & { filesystem: string }> = [];
  return {
    fatalFailures,
    async before(filesystems, snapshot) {
      const skipped = new Set<string>();
      for (const filesystem of filesystems) {
        const ran = await runHooks(hooks, { type: 'pre_snapshot', job, filesystem, snapshot }, options);
        if (ran.fatal === undefined) continue;
        skipped.add(filesystem);
        fatalFailures.push({ ...ran.fatal, filesystem });
        options.logger.error({ filesystem, snapshot, hook: ran.fatal.hook }, 'snapshot skipped: a pre_snapshot hook failed (err_is_fatal)');
      }
      return skipped;
    },
    async after(filesystems, snapshot, outcome) {
      for (const filesystem of filesystems) {
        // The invocation's signal is left out: a post hook (an unlock) must run even when stopping.
        await runHooks(hooks, { type: 'post_snapshot', job, filesystem, snapshot, outcome }, { logger: options.logger });
      }
    },
  };
}

/** The invocation's error for fatal hook failures (undefined: none). */
export function hookFailureError(failures: ReadonlyArray<HookFailure & { filesystem: string }>): { code: string; message: string } | undefined {
  const first = failures[0];
  if (first === undefined) return undefined;
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : '';
  return { code: 'HOOK_FAILED', message: `${first.filesystem}: hook ${first.hook} ${first.message}${more}` };
}
