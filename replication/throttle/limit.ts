/**
 * A bandwidth limit as the replication floor sees it: the same shape as the config's
 * `bandwidth_limit` (config/types.ts BandwidthLimit), repeated here because replication does
 * not import config.
 */
export interface BandwidthLimit {
  maxBytesPerSecond: number;
  bucketCapacityBytes: number;
}

/** The default bucket: a quarter second of the rate, at least 128 KiB (as the config's default). */
export function defaultBucketCapacity(maxBytesPerSecond: number): number {
  return Math.max(128 * 1024, Math.round(maxBytesPerSecond / 4));
}

/** The tighter of two limits (either may be absent); both bound the same stream. */
export function lowerLimit(a: BandwidthLimit | undefined, b: BandwidthLimit | undefined): BandwidthLimit | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.maxBytesPerSecond < a.maxBytesPerSecond ? b : a;
}
