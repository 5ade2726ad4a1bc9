/**
 * Which filesystems of a job with an `rpo` are late: their newest replicated snapshot (its
 * creation time) is older than the rpo. A filesystem never replicated counts from when the job
 * first saw it. Pure: filesystems and the time in, transitions out; a transition comes once
 * when a filesystem goes late and once when it recovers, never while it stays either way.
 */

export interface FilesystemNewest {
  source: string;
  /** Creation (ms since the epoch) of the newest snapshot known to be on the target; absent: none yet. */
  newestAt?: number;
}

export interface LateTransition {
  filesystem: string;
  state: 'late' | 'recovered';
  /** The newest replicated snapshot's age at the transition, ms; absent when nothing was replicated yet. */
  newestAgeMs?: number;
}

interface Tracked {
  late: boolean;
  firstSeenAt: number;
}

export class LatenessTracker {
  readonly maxAgeMs: number;
  readonly #filesystems: Map<string, Tracked>;

  /** `previous`: the tracker of the job's former definition (a reload): its breaches carry over, no hook runs twice. */
  constructor(maxAgeMs: number, previous?: LatenessTracker) {
    this.maxAgeMs = maxAgeMs;
    this.#filesystems = new Map(previous !== undefined ? [...previous.#filesystems].map(([fs, state]) => [fs, { ...state }]) : []);
  }

  /** Evaluates every filesystem at `now`; the ones not listed are forgotten. */
  evaluate(filesystems: readonly FilesystemNewest[], now: number): LateTransition[] {
    const transitions: LateTransition[] = [];
    const seen = new Set<string>();
    for (const fs of filesystems) {
      seen.add(fs.source);
      let tracked = this.#filesystems.get(fs.source);
      if (tracked === undefined) {
        tracked = { late: false, firstSeenAt: now };
        this.#filesystems.set(fs.source, tracked);
      }
      const since = fs.newestAt ?? tracked.firstSeenAt;
      const late = now - since > this.maxAgeMs;
      if (late === tracked.late) continue;
      tracked.late = late;
      transitions.push({
        filesystem: fs.source,
        state: late ? 'late' : 'recovered',
        ...(fs.newestAt !== undefined ? { newestAgeMs: Math.max(0, now - fs.newestAt) } : {}),
      });
    }
    for (const source of [...this.#filesystems.keys()]) if (!seen.has(source)) this.#filesystems.delete(source);
    return transitions;
  }

  isLate(filesystem: string): boolean {
    return this.#filesystems.get(filesystem)?.late === true;
  }

  get lateCount(): number {
    let count = 0;
    for (const tracked of this.#filesystems.values()) if (tracked.late) count += 1;
    return count;
  }
}
