/**
 * Collected timings: each group is one piece of work (e.g. "1 GiB full, local") done by
 * several contenders, one of them the baseline; ratios are always within a group, so within
 * the same run, pools and data.
 */

export interface GroupSpec {
  /** Stable key for the JSON summary, e.g. `single.full.local`. */
  key: string;
  /** Section heading in the table. */
  section: string;
  /** Row title, e.g. `1 GiB full, local`. */
  title: string;
  /** The contender the others are compared with; none for groups without a baseline. */
  baselineId?: string;
  /** Bytes moved per run (the stream size), when throughput means something. */
  bytes?: number;
}

export interface Entry {
  id: string;
  label: string;
  runsMs: number[];
  /** CPU time of the contender's own local processes, per run where measured. */
  cpuMs: number[];
}

export interface Group extends GroupSpec {
  entries: Entry[];
}

export interface Summary {
  key: string;
  id: string;
  label: string;
  medianMs: number;
  runsMs: number[];
  medianCpuMs: number | undefined;
  /** median / baseline median: 1.00 is as fast as the baseline, 2.00 takes twice as long. */
  timeVsBaseline: number | undefined;
  mibPerSecond: number | undefined;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export class Results {
  readonly groups: Group[] = [];

  group(spec: GroupSpec): Group {
    let group = this.groups.find((g) => g.key === spec.key);
    if (!group) {
      group = { ...spec, entries: [] };
      this.groups.push(group);
    }
    return group;
  }

  record(spec: GroupSpec, replicator: { id: string; label: string }, run: { ms: number; cpuMs?: number }): void {
    const group = this.group(spec);
    let entry = group.entries.find((e) => e.id === replicator.id);
    if (!entry) {
      entry = { id: replicator.id, label: replicator.label, runsMs: [], cpuMs: [] };
      group.entries.push(entry);
    }
    entry.runsMs.push(run.ms);
    if (run.cpuMs !== undefined) entry.cpuMs.push(run.cpuMs);
  }

  medianOf(key: string, id: string): number | undefined {
    const runs = this.groups.find((g) => g.key === key)?.entries.find((e) => e.id === id)?.runsMs;
    return runs && runs.length > 0 ? median(runs) : undefined;
  }

  summaries(): Summary[] {
    const out: Summary[] = [];
    for (const group of this.groups) {
      const baseline = group.baselineId !== undefined ? this.medianOf(group.key, group.baselineId) : undefined;
      for (const entry of group.entries) {
        const medianMs = median(entry.runsMs);
        out.push({
          key: group.key,
          id: entry.id,
          label: entry.label,
          medianMs,
          runsMs: entry.runsMs,
          medianCpuMs: entry.cpuMs.length > 0 ? median(entry.cpuMs) : undefined,
          timeVsBaseline: baseline !== undefined ? medianMs / baseline : undefined,
          mibPerSecond: group.bytes !== undefined ? group.bytes / 1024 / 1024 / (medianMs / 1000) : undefined,
        });
      }
    }
    return out;
  }
}
