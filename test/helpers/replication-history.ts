/**
 * Builders for snapshot/bookmark lists and a seeded generator of sender/receiver histories,
 * for testing the replication planner without ZFS.
 */
import type { FilesystemVersion, VersionType } from '../../replication/zfs/types.js';

export function version(type: VersionType, filesystem: string, name: string, guid: string, createtxg: number): FilesystemVersion {
  const separator = type === 'snapshot' ? '@' : '#';
  return { type, filesystem, name, fullName: `${filesystem}${separator}${name}`, guid, createtxg, creation: 1_700_000_000 + createtxg };
}

export function snapshot(filesystem: string, name: string, guid: string, createtxg: number): FilesystemVersion {
  return version('snapshot', filesystem, name, guid, createtxg);
}

export function bookmark(filesystem: string, name: string, guid: string, createtxg: number): FilesystemVersion {
  return version('bookmark', filesystem, name, guid, createtxg);
}

/** The same snapshot as received on another filesystem: same guid and name, the receiver's own txg. */
export function received(source: FilesystemVersion, filesystem: string, createtxg: number): FilesystemVersion {
  return snapshot(filesystem, source.name, source.guid, createtxg);
}

/** mulberry32: small, fast, and good enough to spread test cases; reproducible from the seed. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i -= 1) {
      const j = this.int(i + 1);
      const a = out[i] as T;
      out[i] = out[j] as T;
      out[j] = a;
    }
    return out;
  }

  /** An unsigned 64-bit value >= 2^53, as a decimal string (beyond exact JS numbers). */
  bigGuid(): string {
    const high = 0x200000 + this.int(0xffffffff - 0x200000);
    const low = this.int(0x100000000);
    return ((BigInt(high) << 32n) + BigInt(low)).toString();
  }
}

export interface GeneratedHistory {
  source: string;
  target: string;
  sender: FilesystemVersion[];
  receiver: FilesystemVersion[] | null;
  receiverModifiedSinceLatest: boolean | undefined;
}

const NAME_PREFIXES = ['hourly_', 'daily_', 'manual-', 'zferry_'];

/**
 * A random but plausible history: the source takes snapshots; some prefix of them was
 * replicated (maybe filtered); then either side deleted some, the source bookmarked some,
 * the target took its own snapshots (usually after the last received one, sometimes in
 * between), or the target is missing, empty, or entirely unrelated. Some target-only guids
 * differ from a source guid by one, which only exact (string) comparison tells apart.
 */
export function generateHistory(rng: SeededRandom): GeneratedHistory {
  const source = 'tank/src';
  const target = 'backup/dst';
  const usedGuids = new Set<string>();
  const freshGuid = (): string => {
    for (;;) {
      const guid = rng.bigGuid();
      if (!usedGuids.has(guid)) {
        usedGuids.add(guid);
        return guid;
      }
    }
  };
  const nearTwinGuid = (of: string): string => {
    const twin = (BigInt(of) + (rng.chance(0.5) ? 1n : -1n)).toString();
    if (usedGuids.has(twin)) return freshGuid();
    usedGuids.add(twin);
    return twin;
  };

  let txg = 1 + rng.int(100);
  const senderSnapshots: FilesystemVersion[] = [];
  const count = rng.int(15);
  for (let i = 0; i < count; i += 1) {
    txg += 1 + rng.int(5);
    senderSnapshots.push(snapshot(source, `${rng.pick(NAME_PREFIXES)}${i}`, freshGuid(), txg));
  }

  let receiver: FilesystemVersion[] | null;
  const shape = rng.next();
  let receiverTxg = 1 + rng.int(1000);
  const receiverSnapshot = (name: string, guid: string): FilesystemVersion => {
    receiverTxg += 1 + rng.int(3);
    return snapshot(target, name, guid, receiverTxg);
  };
  if (shape < 0.08) {
    receiver = null;
  } else if (shape < 0.16) {
    receiver = [];
    if (rng.chance(0.3)) receiver.push(bookmark(target, 'leftover', freshGuid(), receiverTxg));
  } else if (shape < 0.22) {
    receiver = [];
    const unrelated = 1 + rng.int(4);
    for (let i = 0; i < unrelated; i += 1) {
      const twinOf = rng.chance(0.5) && senderSnapshots.length > 0 ? rng.pick(senderSnapshots).guid : undefined;
      receiver.push(receiverSnapshot(`other_${i}`, twinOf === undefined ? freshGuid() : nearTwinGuid(twinOf)));
    }
  } else {
    receiver = [];
    const replicatedUpTo = rng.int(senderSnapshots.length + 1);
    const skipSome = rng.chance(0.3);
    for (const s of senderSnapshots.slice(0, replicatedUpTo)) {
      if (rng.chance(0.15) && rng.chance(0.5)) {
        // The target took a snapshot of its own in between (it was later received over with -F).
        receiver.push(receiverSnapshot(`local_${receiver.length}`, freshGuid()));
      }
      if (skipSome && rng.chance(0.3)) continue;
      receiver.push(receiverSnapshot(s.name, s.guid));
    }
    if (rng.chance(0.25)) {
      const extra = 1 + rng.int(3);
      for (let i = 0; i < extra; i += 1) {
        const last = receiver[receiver.length - 1];
        const guid = last !== undefined && rng.chance(0.3) ? nearTwinGuid(last.guid) : freshGuid();
        receiver.push(receiverSnapshot(`extra_${i}`, guid));
      }
    }
    // Random deletions on the target.
    receiver = receiver.filter(() => !rng.chance(0.12));
    // Target bookmarks never count as common, but a rollback destroys the newer ones.
    const snapshotsSoFar = [...receiver];
    for (const s of snapshotsSoFar) {
      if (rng.chance(0.1)) receiver.push(bookmark(target, `tb_${s.name}`, s.guid, s.createtxg));
    }
    if (rng.chance(0.05)) receiver.push(bookmark(target, 'unrelated', freshGuid(), receiverTxg + 1));
  }

  // The source bookmarks some snapshots and deletes some (a bookmark may outlive its snapshot).
  const sender: FilesystemVersion[] = [];
  for (const s of senderSnapshots) {
    if (rng.chance(0.2)) sender.push(bookmark(source, `bm_${s.name}`, s.guid, s.createtxg));
    if (!rng.chance(0.15)) sender.push(s);
  }

  const modified = rng.pick([true, false, undefined]);
  return {
    source,
    target,
    sender: rng.shuffle(sender),
    receiver: receiver === null ? null : rng.shuffle(receiver),
    receiverModifiedSinceLatest: modified,
  };
}
