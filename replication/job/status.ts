/**
 * The live state of a run, which its handle reads: one record per filesystem, updated by the
 * steps as they go. Each update also tells the runtime's `onProgress` (a ProgressEvent), and a
 * filesystem's FilesystemResult in the summary is read from its record once it ends.
 */
import type { FilesystemMapping } from '../planner/index.js';
import { RateWindow } from './rate-window.js';
import type {
  FilesystemOutcome,
  FilesystemResult,
  FilesystemState,
  FilesystemStatus,
  JobState,
  JobStatus,
  JobSummary,
  ProgressEvent,
  RunningStepStatus,
  SharedBase,
  StepResult,
} from './types.js';

type Sink = ((event: ProgressEvent) => void) | undefined;
type ErrorReport = { code: string; message: string };

export class JobProgress {
  readonly startedAt: number;
  readonly #job: { source: string; target: string };
  readonly #clock: () => number;
  readonly #sink: Sink;
  readonly #filesystems: FilesystemProgress[] = [];
  #state: JobState = 'preparing';
  #error: ErrorReport | undefined;

  constructor(job: { source: string; target: string }, clock: () => number, sink: Sink) {
    this.#job = job;
    this.#clock = clock;
    this.#sink = sink;
    this.startedAt = clock();
  }

  /** A record for a filesystem the run mapped: pending until its turn comes. */
  track(mapping: FilesystemMapping): FilesystemProgress {
    const record = new FilesystemProgress(mapping, this.#clock, this.#sink);
    this.#filesystems.push(record);
    return record;
  }

  enter(state: 'replicating' | 'finishing'): void {
    this.#state = state;
  }

  ended(summary: JobSummary): void {
    this.#state = summary.outcome === 'ok' ? 'done' : summary.outcome;
  }

  /** The run stopped before replicating (its result rejects). */
  failed(error: ErrorReport): void {
    this.#state = 'failed';
    this.#error = error;
  }

  status(): JobStatus {
    const now = this.#clock();
    const filesystems = this.#filesystems.map((record) => record.status(now));
    return {
      ...this.#job,
      state: this.#state,
      startedAt: this.startedAt,
      bytes: filesystems.reduce((sum, fs) => sum + fs.bytes, 0),
      filesystems,
      ...(this.#error !== undefined ? { error: { ...this.#error } } : {}),
    };
  }
}

/** One filesystem of a run, from pending to its outcome. */
export class FilesystemProgress {
  readonly source: string;
  readonly target: string;
  readonly #clock: () => number;
  readonly #sink: Sink;
  readonly #rate = new RateWindow();
  #state: FilesystemState = 'pending';
  #startedAt: number | undefined;
  #durationMs = 0;
  /** The plan in words; the steps alone (undefined until planned). */
  #plan: string[] = [];
  #steps: string[] | undefined;
  readonly #done: StepResult[] = [];
  readonly #actions: string[] = [];
  #current: RunningStepStatus | undefined;
  #outcome: FilesystemOutcome | undefined;
  #error: ErrorReport | undefined;
  #base: SharedBase | undefined;

  constructor(mapping: FilesystemMapping, clock: () => number, sink: Sink) {
    this.source = mapping.source;
    this.target = mapping.target;
    this.#clock = clock;
    this.#sink = sink;
  }

  /** Its turn came: it is listed, planned and replicated now. */
  started(): void {
    this.#state = 'running';
    this.#startedAt = this.#clock();
  }

  /** Planned (again, if the target turned out modified): the plan in words, and its steps. */
  planned(plan: string[], steps: string[]): void {
    this.#plan = plan;
    this.#steps = steps;
  }

  /** The planned steps; undefined before it was planned. */
  get plannedSteps(): readonly string[] | undefined {
    return this.#steps;
  }

  get stepsDone(): number {
    return this.#done.length;
  }

  get outcome(): FilesystemOutcome | undefined {
    return this.#outcome;
  }

  stepStarted(index: number): void {
    const name = this.#steps?.[index] ?? '';
    const now = this.#clock();
    this.#current = { index, name, bytes: 0, startedAt: now };
    this.#rate.record(now, this.#doneBytes());
    this.#sink?.({ type: 'step-start', filesystem: this.source, step: name, index, total: this.#steps?.length ?? 0 });
  }

  /** The running step's stream so far, as it passes through this process. */
  sent(bytes: number): void {
    if (this.#current !== undefined) {
      this.#current.bytes = bytes;
      this.#rate.record(this.#clock(), this.#doneBytes() + bytes);
    }
    this.#sink?.({ type: 'bytes', filesystem: this.source, bytes });
  }

  /** Step `index`'s stream size; an answer for a step already done is not the running one's. */
  estimated(index: number, bytes: number, approximate: boolean): void {
    if (this.#current?.index === index) this.#current.estimate = { bytes, approximate };
    this.#sink?.({ type: 'estimate', filesystem: this.source, index, bytes, approximate });
  }

  stepDone(step: StepResult): void {
    const name = this.#current?.name ?? '';
    this.#current = undefined;
    this.#done.push(step);
    this.#rate.record(this.#clock(), this.#doneBytes());
    this.#sink?.({ type: 'step-done', filesystem: this.source, step: name, bytes: step.bytes, durationMs: step.durationMs });
  }

  /** What was done to a diverged target (renamed aside, rolled back). */
  acted(action: string): void {
    this.#actions.push(action);
  }

  /**
   * Its run is over. `awaitingCheck`: its last step is received but not verified yet; it ends
   * with checked().
   */
  ended({ outcome, error, awaitingCheck = false }: { outcome: FilesystemOutcome; error?: ErrorReport | undefined; awaitingCheck?: boolean }): void {
    this.#durationMs = this.#startedAt === undefined ? 0 : this.#clock() - this.#startedAt;
    this.#current = undefined;
    this.#outcome = outcome;
    this.#error = error;
    if (awaitingCheck) {
      this.#state = 'verifying';
      return;
    }
    this.#state = stateOf(outcome);
    this.#sink?.({ type: 'filesystem-done', result: this.result() });
  }

  /** The job checked its last step: received as sent, or `error`. */
  checked(error?: ErrorReport): void {
    if (error !== undefined) {
      this.#outcome = 'failed';
      this.#error = error;
    }
    this.#state = stateOf(this.#outcome ?? 'failed');
    this.#sink?.({ type: 'filesystem-done', result: this.result() });
  }

  /** It never ran: its parent failed, or the run was interrupted first. */
  notRun(outcome: 'failed' | 'interrupted', error: ErrorReport): void {
    this.#outcome = outcome;
    this.#error = error;
    this.#state = outcome;
  }

  /** What the summary says of it (the order of the keys is that of `--json`). */
  result(): FilesystemResult {
    return {
      source: this.source,
      target: this.target,
      outcome: this.#outcome ?? 'failed',
      plan: [...this.#plan],
      steps: [...this.#done],
      bytes: this.#doneBytes(),
      durationMs: this.#durationMs,
      actions: [...this.#actions],
      ...(this.#error !== undefined ? { error: { ...this.#error } } : {}),
    };
  }

  status(now: number): FilesystemStatus {
    const current = this.#current;
    return {
      source: this.source,
      target: this.target,
      state: this.#state,
      steps: [...(this.#steps ?? [])],
      stepsDone: this.#done.length,
      ...(current !== undefined ? { current: { ...current, ...(current.estimate ? { estimate: { ...current.estimate } } : {}) } } : {}),
      bytes: this.#doneBytes() + (current?.bytes ?? 0),
      rate: this.#state === 'running' ? this.#rate.rate(now) : 0,
      ...(this.#outcome !== undefined ? { outcome: this.#outcome } : {}),
      ...(this.#error !== undefined ? { error: { ...this.#error } } : {}),
      ...(this.#base !== undefined ? { base: { ...this.#base } } : {}),
    };
  }

  /** The run is over: the newest snapshot both sides now share (the next incremental base). */
  settled(base: SharedBase): void {
    this.#base = base;
  }

  #doneBytes(): number {
    return this.#done.reduce((sum, step) => sum + step.bytes, 0);
  }
}

function stateOf(outcome: FilesystemOutcome): FilesystemState {
  switch (outcome) {
    case 'replicated':
    case 'up-to-date':
    case 'planned':
      return 'done';
    case 'skipped':
    case 'failed':
    case 'interrupted':
      return outcome;
  }
}
