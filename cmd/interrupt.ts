/**
 * SIGINT and SIGTERM during a run. The first one aborts the job's signal: the transfers stop
 * (their zfs processes end as in a shell pipeline), and the run ends with its summary and exit
 * code 130 or 143. A second one exits at once (the zfs processes were told to stop already).
 *
 * The handlers stay installed until the process exits: execa's signal-exit re-raises a
 * signal once no other listener is left, which would kill zferry halfway through stopping.
 */
import type { Logger } from 'pino';
import { EXIT_INTERRUPTED, InterruptedError, type InterruptSignal } from './errors.js';

export interface Interrupts {
  /** The first signal received, if any. */
  readonly received: InterruptSignal | undefined;
}

export function abortOnSignals(controller: AbortController, logger: Logger): Interrupts {
  let received: InterruptSignal | undefined;
  const onSignal = (signal: InterruptSignal): void => {
    if (received !== undefined) {
      process.stderr.write(`zferry: ${signal} again: exiting without waiting for the transfers to stop\n`);
      process.exit(EXIT_INTERRUPTED[received]);
    }
    received = signal;
    logger.warn(`${signal}: stopping the transfers (${signal} again exits at once)`);
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
