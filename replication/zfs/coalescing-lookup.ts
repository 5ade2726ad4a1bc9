/**
 * Lookups by name, coalesced: one lookup runs at a time, and the names asked for while it runs
 * go out together in the next one. When several receives finish close together (`--jobs`),
 * their guid checks then cost one `zfs get` instead of one each; on zfs-fuse every zfs process
 * costs the daemon several milliseconds, serialized. A lone lookup still goes out at once.
 */

/** Looks up several names at once; names missing from the answer were not found. */
export type LookupMany<T> = (names: readonly string[]) => Promise<Map<string, T>>;

interface Waiting<T> {
  name: string;
  resolve: (value: T | undefined) => void;
  reject: (error: unknown) => void;
}

export class CoalescingLookup<T> {
  readonly #lookupMany: LookupMany<T>;
  readonly #maxBatch: number;
  #queue: Waiting<T>[] = [];
  #running = false;
  /** Lookups made so far (for tests and diagnostics). */
  batches = 0;

  /** `maxBatch` bounds one command line. */
  constructor(lookupMany: LookupMany<T>, maxBatch = 64) {
    this.#lookupMany = lookupMany;
    this.#maxBatch = maxBatch;
  }

  lookup(name: string): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      this.#queue.push({ name, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.batches += 1;
      try {
        const found = await this.#lookupMany([...new Set(batch.map((w) => w.name))]);
        for (const waiting of batch) waiting.resolve(found.get(waiting.name));
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    this.#running = false;
  }
}
