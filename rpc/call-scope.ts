/**
 * The caller-side lifetime of one call: its AbortSignal and its deadline, folded into one
 * "this call is over" notification with the right error class (cancelled vs deadline).
 */
import { RpcCancelledError, RpcDeadlineError, errorMessage } from './errors.js';
import type { RpcError } from './errors.js';
import type { CallOptions } from './contract.js';

/** The largest delay setTimeout honours; node fires longer ones after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class CallScope {
  readonly deadline: number | undefined;
  #signal: AbortSignal | undefined;
  #timer: NodeJS.Timeout | undefined;
  #listener: ((error: RpcError) => void) | undefined;
  #aborted: RpcError | undefined;
  readonly #timeoutMs: number | undefined;

  constructor(options: CallOptions | undefined) {
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs < 0)) {
      throw new RangeError(`timeoutMs must be a non-negative number, got ${String(timeoutMs)}`);
    }
    this.#timeoutMs = timeoutMs;
    this.deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const signal = options?.signal;
    if (signal?.aborted) {
      this.#aborted = cancelledBy(signal);
    } else if (signal !== undefined) {
      this.#signal = signal;
      signal.addEventListener('abort', this.#onSignal, { once: true });
    }
    // A budget beyond the largest timer delay (~24.8 days) is as good as none.
    if (this.#aborted === undefined && timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) {
      this.#timer = setTimeout(this.#onTimeout, timeoutMs);
    }
  }

  /** Set when the call was cancelled or timed out (also before onEnd was registered). */
  get aborted(): RpcError | undefined {
    return this.#aborted;
  }

  /** Milliseconds left before the deadline (undefined: none). */
  remainingMs(): number | undefined {
    return this.deadline === undefined ? undefined : Math.max(0, this.deadline - Date.now());
  }

  /** Called once, when the signal aborts or the deadline passes (at once if that already happened). */
  onAbort(listener: (error: RpcError) => void): void {
    if (this.#aborted !== undefined) listener(this.#aborted);
    else this.#listener = listener;
  }

  /** The call is over: release the timer and the signal listener. Idempotent. */
  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#signal?.removeEventListener('abort', this.#onSignal);
    this.#signal = undefined;
    this.#listener = undefined;
  }

  #abort(error: RpcError): void {
    if (this.#aborted !== undefined) return;
    this.#aborted = error;
    const listener = this.#listener;
    this.dispose();
    listener?.(error);
  }

  readonly #onSignal = (): void => {
    if (this.#signal !== undefined) this.#abort(cancelledBy(this.#signal));
  };

  readonly #onTimeout = (): void => {
    this.#timer = undefined;
    this.#abort(new RpcDeadlineError(`deadline exceeded: call did not finish within ${this.#timeoutMs} ms`));
  };
}

export function cancelledBy(signal: AbortSignal): RpcError {
  const reason: unknown = signal.reason;
  if (reason instanceof RpcCancelledError || reason instanceof RpcDeadlineError) return reason;
  const detail = reason === undefined || (reason instanceof Error && reason.name === 'AbortError') ? '' : `: ${errorMessage(reason)}`;
  return new RpcCancelledError(`call cancelled${detail}`, { cause: reason });
}
