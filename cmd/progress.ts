/**
 * Progress on a terminal: one status line on stderr, drawn from the run's live status as it
 * changes (byte counts at most four times a second), with bytes and rate per running
 * filesystem, and the share done and time left where the sender could tell the stream's size
 * (`zfs send -n -P`, or a full stream's snapshot size, marked `~`: an estimate that the stream
 * may overrun).
 */
import type { FilesystemStatus, JobStatus, ProgressEvent } from '../replication/job/types.js';
import { formatBytes } from './output.js';

/** The shortest time between two draws for byte counts alone. */
const BYTES_REDRAW_MS = 250;

export interface RunningStep {
  /** `2/5`: the step's position among the filesystem's steps. */
  step: string;
  bytes: number;
  startedMs: number;
  estimate?: { bytes: number; approximate: boolean };
}

/** `m:ss` (or `h:mm:ss`) for a time left in seconds. */
export function formatClock(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** One filesystem's part of the status line. */
export function describeRunning(filesystem: string, state: RunningStep, nowMs: number): string {
  const seconds = Math.max((nowMs - state.startedMs) / 1000, 0.001);
  const rate = state.bytes / seconds;
  let text = `${filesystem} ${state.step}: ${formatBytes(state.bytes)}`;
  const estimate = state.estimate;
  if (estimate !== undefined && estimate.bytes > 0) {
    const mark = estimate.approximate ? '~' : '';
    const left = estimate.bytes - state.bytes;
    // An approximate size the stream has passed says nothing more about what is left.
    const percent = Math.min(99, Math.floor((state.bytes / estimate.bytes) * 100));
    text += ` of ${mark}${formatBytes(estimate.bytes)} (${mark}${percent}%)`;
    text += ` @ ${formatBytes(rate)}/s`;
    if (left > 0 && rate > 0 && state.bytes > 0) text += `, ${mark}${formatClock(left / rate)} left`;
    return text;
  }
  return `${text} @ ${formatBytes(rate)}/s`;
}

export interface ProgressDisplay {
  /** The run whose status the line shows. */
  follow(run: { status(): JobStatus }): void;
  /** The run's progress events (the runtime's `onProgress`): each redraws the line. */
  onProgress: (event: ProgressEvent) => void;
  /** Clears the line. */
  stop(): void;
}

export function createProgressDisplay(stream: Pick<NodeJS.WriteStream, 'write' | 'columns'>, now: () => number = Date.now): ProgressDisplay {
  let followed: { status(): JobStatus } | undefined;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;

  const draw = (force: boolean): void => {
    const at = now();
    if (followed === undefined || (!force && at - lastDraw < BYTES_REDRAW_MS)) return;
    lastDraw = at;
    const parts = followed.status().filesystems.flatMap((fs) => {
      const running = runningStepOf(fs);
      return running === undefined ? [] : [describeRunning(fs.source, running, at)];
    });
    const width = stream.columns ?? 100;
    const line = parts.join(' | ').slice(0, width - 1);
    stream.write(`\r\x1b[K${line}`);
    drawn = line.length > 0;
  };

  return {
    follow(run) {
      followed = run;
    },
    onProgress(event) {
      draw(event.type !== 'bytes');
    },
    stop() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

function runningStepOf(fs: FilesystemStatus): RunningStep | undefined {
  const current = fs.current;
  if (current === undefined) return undefined;
  return {
    step: `${current.index + 1}/${fs.steps.length}`,
    bytes: current.bytes,
    startedMs: current.startedAt,
    ...(current.estimate !== undefined ? { estimate: current.estimate } : {}),
  };
}
