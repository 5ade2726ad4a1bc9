/**
 * The placements a replication test can run in, all through the real CLI: push or pull, with
 * both sides local (LocalRPC) or the far side behind a real sshd on 127.0.0.1.
 */
import { runZferry, sshArgs, sshLocation, type CliResult } from './cli.js';
import type { Sshd } from './sshd.js';

export interface ReplicationMode {
  name: string;
  /** Both sides in one zferry process: zfs send writes straight into zfs recv. */
  sameHost: boolean;
  /** Runs `zferry push|pull` from `source` to `target` (both dataset names on this host). */
  replicate(source: string, target: string, extra?: readonly string[]): Promise<CliResult>;
}

export function localMode(direction: 'push' | 'pull'): ReplicationMode {
  return {
    name: `${direction} local`,
    sameHost: true,
    replicate: (source, target, extra = []) => runZferry([direction, ...extra, source, target]),
  };
}

export function sshMode(direction: 'push' | 'pull', sshd: () => Sshd): ReplicationMode {
  return {
    name: `${direction} over ssh`,
    sameHost: false,
    replicate(source, target, extra = []) {
      const server = sshd();
      const src = direction === 'pull' ? sshLocation(server, source) : source;
      const dst = direction === 'push' ? sshLocation(server, target) : target;
      return runZferry([direction, ...sshArgs(server), ...extra, src, dst]);
    },
  };
}

/** Fails with the CLI's output when the exit code is not the expected one. */
export function expectExit(result: CliResult, code: number, what: string): CliResult {
  if (result.exitCode !== code) {
    throw new Error(`${what}: expected exit ${code}, got ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
  return result;
}
