/**
 * Process-wide tuning for processes that move bulk byte streams. Nothing here runs on import:
 * an entry point (the CLI, a benchmark peer) calls `tuneProcessForBulkStreams()` once, before
 * its first connection, so that loading the RPC or a transport never changes the process.
 */
import { raiseMallocTrimThreshold } from './malloc-tuning.js';
import { tuneV8ForBulkStreams } from './v8-tuning.js';

export { tuneV8ForIdle } from './v8-tuning.js';

export { enlargePipe, enlargeSocketSendBuffer, DEFAULT_PIPE_BYTES, DEFAULT_SOCKET_SEND_BYTES } from './kernel-buffers.js';

export interface ProcessTuning {
  /** V8 flags this call set ('already' when an earlier call did). */
  v8Flags: string[] | 'already';
  /** glibc's trim threshold was raised by this call. */
  mallocTrimRaised: boolean;
}

/** Once per process; later calls change nothing. */
export function tuneProcessForBulkStreams(): ProcessTuning {
  return { v8Flags: tuneV8ForBulkStreams(), mallocTrimRaised: raiseMallocTrimThreshold() };
}
