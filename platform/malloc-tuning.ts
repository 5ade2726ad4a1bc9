/**
 * Keeps glibc from giving the read arenas' memory back to the kernel after every garbage
 * collection.
 *
 * A receiving end allocates a 1 MiB read arena per MiB it receives (transport/arena-reader.ts),
 * and each scavenge frees a few dozen of them at once. glibc returns free memory at the top of
 * its heap to the kernel once that exceeds its trim threshold (twice the largest mmapped chunk
 * freed so far: about 2 MiB here), so the next arenas are fresh pages again, each one faulted in
 * and zeroed by the kernel (faults and CPU per GiB measured in docs/benchmarks.md).
 *
 * Node has no mallopt(). But glibc raises its mmap and trim thresholds by itself when a mmapped
 * chunk larger than the current mmap threshold is freed (up to 32 MiB). So one allocation just
 * below that, never touched and freed by the next scavenge, moves them to 31 and 62 MiB: later
 * arenas come from the heap, and up to 62 MiB of free heap stays with the process instead of
 * going back and forth. Elsewhere (musl, macOS) it is one short-lived allocation whose pages are
 * never mapped.
 */

/** Just below glibc's 32 MiB ceiling for the dynamic mmap threshold. */
export const THRESHOLD_RAISING_BYTES = 31 * 1024 * 1024;

let done = false;

/** Once per process, on Linux; true when this call did it. */
export function raiseMallocTrimThreshold(): boolean {
  if (done || process.platform !== 'linux') return false;
  done = true;
  // Dropped at once: what matters is glibc seeing it freed.
  Buffer.allocUnsafeSlow(THRESHOLD_RAISING_BYTES);
  return true;
}
