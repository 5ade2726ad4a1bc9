/**
 * SIGINT and SIGTERM during a run. The first one aborts the job's signal: the transfers stop
 * (their zfs processes end as in a shell pipeline), and the run ends with its summary and exit
 * code 130 or 143. A second one exits sooner: without the summary and without waiting for the
 * remote side, only for this host's zfs processes (told to stop by the first one) to be gone,
 * for a few seconds at most; killing them earlier would leave zfs-fuse's send holds behind.
 *
 * The handlers stay installed until the process exits: execa's signal-exit re-raises a
 * signal once no other listener is left, which would kill zferry halfway through stopping.
 */
import type { Logger } from 'pino';
import { EXIT_INTERRUPTED, InterruptedError, type InterruptSignal } from './errors.js';

/** After a second signal, how long this host's zfs processes get to end on their own. */
const FORCED_EXIT_WAIT_MS = 3000;

export interface Interrupts {
  /** The first signal received, if any. */
  readonly received: InterruptSignal | undefined;
}

export function abortOnSignals(controller: AbortController, logger: Logger): Interrupts {
  let received: InterruptSignal | undefined;
  const onSignal = (signal: InterruptSignal): void => {
    if (received !== undefined) {
      const code = EXIT_INTERRUPTED[received];
      process.stderr.write(`zferry: ${signal} again: exiting without the summary\n`);
      void import('../replication/zfs/spawn.js').then(({ zfsProcessesGone }) => zfsProcessesGone(FORCED_EXIT_WAIT_MS)).finally(() => process.exit(code));
      return;
    }
    received = signal;
    logger.warn(`${signal}: stopping the transfers (${signal} again: exit without the summary)`);
    controller.abort(new InterruptedError(signal));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  return {
    get received() {
      return received;
    },
  };
}
