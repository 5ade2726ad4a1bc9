/**
 * Which failures are worth another attempt within the same invocation: the connection went
 * away, the remote or the target is busy for now. Everything else (a diverged target, a
 * refused name, an overlap, a missing source) would fail again the same way: it waits for
 * the next tick and stays visible in status until then.
 */
const TRANSIENT_CODES = new Set([
  // rpc/errors.ts: the connection died, or the peer is going away / overloaded.
  'RPC_CONNECTION_LOST',
  'RPC_GOAWAY',
  'RPC_DEADLINE_EXCEEDED',
  'RPC_RESOURCE_EXHAUSTED',
  // transport/errors.ts: ssh could not connect or ended unexpectedly (authentication and a
  // failing remote command are not transient).
  'SSH_CONNECT',
  'SSH_FAILED',
  // Another zferry replicates into the same target right now (the target lock).
  'TARGET_BUSY',
  // zfs: a dataset is busy (an unmount or a concurrent operation).
  'ZFS_DATASET_BUSY',
]);

export function isTransient(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** How long to wait before attempt `attempt` (2, 3, …): 1 s, 2 s, 4 s, … */
export function backoffMs(attempt: number, firstMs = 1000): number {
  return firstMs * 2 ** Math.max(0, attempt - 2);
}
