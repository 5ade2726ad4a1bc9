/**
 * A served sink session's hold on where it writes: the same host-wide target lock a local run
 * takes (replication/job/target-lock.ts), on `local://<host>/<root_fs>/<identity>`, from the
 * session's first writing call to its end. So a `zferry run`, a one-shot push or another
 * daemon job on the backup host replicating into that client's tree waits for the session (and
 * the other way round), and the busy message names the session. One lock for the whole served
 * root, not one per receive: a client's own run receives parents and children at once, which
 * per-target locks would set against each other.
 */
import { acquireTargetLock, type TargetLock } from '../../replication/job/target-lock.js';

export interface SessionLock {
  /** Resolves once the lock is held (at once after the first time); rejects when the root stays busy. */
  hold(signal?: AbortSignal): Promise<void>;
  release(): Promise<void>;
}

export function sessionLock(request: { destination: string; root: string; job: string; identity: string }): SessionLock {
  let held: Promise<TargetLock> | undefined;
  let released = false;
  return {
    async hold(signal) {
      if (released) throw new Error('the session has ended');
      held ??= acquireTargetLock({
        destination: request.destination,
        target: request.root,
        job: request.job,
        command: `zferry daemon serving ${request.identity} (job ${request.job})`,
        ...(signal !== undefined ? { signal } : {}),
      }).catch((error: unknown) => {
        held = undefined; // busy now: a later call tries again
        throw error;
      });
      await held;
    },
    async release() {
      released = true;
      const lock = await held?.catch(() => undefined);
      await lock?.release();
    },
  };
}
