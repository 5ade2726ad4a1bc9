/**
 * One invocation's progress events (replication/job/types.ts ProgressEvent) as metric
 * updates: bytes as they pass (the deltas of each step's running count, topped up to the
 * step's final size), each step's duration with its kind and outcome, and each filesystem that
 * ended well. A step that started and never finished counts once its filesystem ends, with that
 * filesystem's outcome.
 */
import type { ProgressEvent } from '../../replication/job/types.js';

export type StepKind = 'full' | 'incremental';
export type StepOutcome = 'ok' | 'failed' | 'interrupted';

export interface ProgressSinks {
  bytes(filesystem: string, bytes: number): void;
  step(kind: StepKind, outcome: StepOutcome, durationMs: number): void;
  succeeded(filesystem: string): void;
  now(): number;
}

interface OpenStep {
  kind: StepKind;
  startedAt: number;
  /** Bytes of the step already counted. */
  counted: number;
}

/** `full  pool/a@s1`, `incr  pool/a@s1 -> s2` (replication/planner/describe.ts). */
export function stepKindOf(name: string): StepKind {
  return name.startsWith('full') ? 'full' : 'incremental';
}

export class ProgressMetrics {
  readonly #sinks: ProgressSinks;
  readonly #open = new Map<string, OpenStep>();

  constructor(sinks: ProgressSinks) {
    this.#sinks = sinks;
  }

  observe(event: ProgressEvent): void {
    switch (event.type) {
      case 'step-start':
        this.#open.set(event.filesystem, { kind: stepKindOf(event.step), startedAt: this.#sinks.now(), counted: 0 });
        return;
      case 'bytes': {
        const step = this.#open.get(event.filesystem);
        if (step === undefined || event.bytes <= step.counted) return;
        this.#sinks.bytes(event.filesystem, event.bytes - step.counted);
        step.counted = event.bytes;
        return;
      }
      case 'step-done': {
        const step = this.#open.get(event.filesystem);
        this.#open.delete(event.filesystem);
        const counted = step?.counted ?? 0;
        if (event.bytes > counted) this.#sinks.bytes(event.filesystem, event.bytes - counted);
        this.#sinks.step(step?.kind ?? stepKindOf(event.step), 'ok', event.durationMs);
        return;
      }
      case 'filesystem-done': {
        const { result } = event;
        const step = this.#open.get(result.source);
        this.#open.delete(result.source);
        if (step !== undefined) {
          const outcome: StepOutcome = result.outcome === 'interrupted' ? 'interrupted' : 'failed';
          this.#sinks.step(step.kind, outcome, this.#sinks.now() - step.startedAt);
        }
        if (result.outcome === 'replicated' || result.outcome === 'up-to-date') this.#sinks.succeeded(result.source);
        return;
      }
      case 'estimate':
        return;
    }
  }
}
