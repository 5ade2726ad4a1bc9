/**
 * Progress on a terminal: one status line on stderr, redrawn at most four times a second,
 * with bytes and rate per running filesystem, and the share done and time left where the
 * sender could tell the stream's size (`zfs send -n -P`, or a full stream's snapshot size,
 * marked `~`: an estimate that the stream may overrun).
 */
import type { ProgressEvent } from '../replication/job/types.js';
import { formatBytes } from './output.js';

export interface RunningStep {
  /** `2/5`: the step's position among the filesystem's steps. */
  step: string;
  index: number;
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

export function createProgressDisplay(
  stream: Pick<NodeJS.WriteStream, 'write' | 'columns'>,
  now: () => number = Date.now,
): { onProgress: (event: ProgressEvent) => void; stop: () => void } {
  const running = new Map<string, RunningStep>();
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;

  const draw = (force = false): void => {
    const at = now();
    if (!force && at - lastDraw < 250) return;
    lastDraw = at;
    const parts = [...running.entries()].map(([fs, state]) => describeRunning(fs, state, at));
    const width = stream.columns ?? 100;
    const line = parts.join(' | ').slice(0, width - 1);
    stream.write(`\r\x1b[K${line}`);
    drawn = line.length > 0;
  };

  return {
    onProgress(event) {
      switch (event.type) {
        case 'step-start':
          running.set(event.filesystem, { step: `${event.index + 1}/${event.total}`, index: event.index, bytes: 0, startedMs: now() });
          break;
        case 'bytes': {
          const state = running.get(event.filesystem);
          if (state) state.bytes = event.bytes;
          break;
        }
        case 'estimate': {
          // A late answer for a step that already finished must not label the next one.
          const state = running.get(event.filesystem);
          if (state?.index === event.index) state.estimate = { bytes: event.bytes, approximate: event.approximate };
          break;
        }
        case 'step-done':
          running.delete(event.filesystem);
          break;
        case 'filesystem-done':
          running.delete(event.result.source);
          break;
      }
      draw(event.type !== 'bytes');
    },
    stop() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
