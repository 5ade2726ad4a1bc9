/**
 * What the control socket can ask of a running daemon (daemon/control-server.ts serves it,
 * `zferry status` and `zferry signal` call it).
 */
import type { DaemonStatus } from './status-types.js';

export interface DaemonControl {
  status(): DaemonStatus;
  /** Run the job now (as if its schedule fired). Throws UNKNOWN_JOB / JOB_NOT_TRIGGERABLE (a sink or source). */
  wakeup(job: string): void;
  /** Cancel the job's current invocation (its transfers stop, targets stay at their last complete snapshot). Throws UNKNOWN_JOB. */
  reset(job: string): void;
}
