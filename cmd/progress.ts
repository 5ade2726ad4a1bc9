/**
 * Progress on a terminal: one status line on stderr, redrawn at most four times a second,
 * with bytes and rate per running filesystem. `zfs send` gives no size estimate on every
 * platform, so no ETA is shown where the size is unknown.
 */
import type { ProgressEvent } from '../replication/job/types.js';
import { formatBytes } from './output.js';

interface Running {
  step: string;
  bytes: number;
  started: number;
}

export function createProgressDisplay(stream: NodeJS.WriteStream): { onProgress: (event: ProgressEvent) => void; stop: () => void } {
  const running = new Map<string, Running>();
  let lastDraw = 0;
  let drawn = false;

  const draw = (force = false): void => {
    const now = Date.now();
    if (!force && now - lastDraw < 250) return;
    lastDraw = now;
    const parts = [...running.entries()].map(([fs, state]) => {
      const seconds = Math.max((now - state.started) / 1000, 0.001);
      return `${fs} ${state.step}: ${formatBytes(state.bytes)} @ ${formatBytes(state.bytes / seconds)}/s`;
    });
    const width = stream.columns ?? 100;
    const line = parts.join(' | ').slice(0, width - 1);
    stream.write(`\r\x1b[K${line}`);
    drawn = line.length > 0;
  };

  return {
    onProgress(event) {
      switch (event.type) {
        case 'step-start':
          running.set(event.filesystem, { step: `${event.index + 1}/${event.total}`, bytes: 0, started: Date.now() });
          break;
        case 'bytes': {
          const state = running.get(event.filesystem);
          if (state) state.bytes = event.bytes;
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
