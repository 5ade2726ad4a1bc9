/**
 * How many bytes of unfinished MESSAGE bodies a receiver may hold. A body that spans frames is
 * kept until its last fragment arrives; without a budget, a peer could open many streams and
 * leave each with a body just under maxMessageBytes, pinning streams × maxMessageBytes. Each
 * connection has a budget, and a server's connections share one more (`parent`), so the total
 * stays bounded however many clients connect.
 */

/** Which budget refused a charge. */
export type BudgetScope = 'connection' | 'server';

export class MessageBudget {
  readonly limit: number;
  readonly scope: BudgetScope;
  readonly #parent: MessageBudget | undefined;
  #used = 0;

  constructor(limit: number, scope: BudgetScope, parent?: MessageBudget) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`message budget must be a non-negative integer, got ${String(limit)}`);
    this.limit = limit;
    this.scope = scope;
    this.#parent = parent;
  }

  /** Bytes charged now. */
  get used(): number {
    return this.#used;
  }

  /** Charge `bytes` here and to the parent; returns the budget that refused (nothing charged then). */
  take(bytes: number): MessageBudget | undefined {
    if (this.#used + bytes > this.limit) return this;
    const refusedAbove = this.#parent?.take(bytes);
    if (refusedAbove !== undefined) return refusedAbove;
    this.#used += bytes;
    return undefined;
  }

  /** Give back what take() charged. */
  release(bytes: number): void {
    if (bytes <= 0) return;
    this.#used -= bytes;
    this.#parent?.release(bytes);
  }
}
