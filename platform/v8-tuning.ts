/**
 * V8 settings for processes that move bulk byte streams (every zferry process does). They are
 * runtime flags that entry points set (platform/index.ts) before their first connection, so the
 * CLI, `zferry serve --stdio` and the benchmark peers get them without a node command-line
 * option. A flag given explicitly on the command line wins.
 *
 * --no-incremental-marking
 *   A receiving end allocates ArrayBuffers at the transfer rate (read arenas, see
 *   transport/arena-reader.ts); they die young, but V8 counts their bytes when deciding to start
 *   incremental marking of the whole heap, so at a GiB/s it marked the heap every few tens of
 *   MiB, at a high CPU cost to the receiver.
 *   Scavenges still free the buffers, and a full GC still runs when the heap itself grows,
 *   atomically: with zferry's small heaps that is a pause of a few milliseconds, rarely.
 *
 * --max-inlined-bytecode-size-cumulative=60 (V8's default: 920)
 *   A stream's hot path (socket, frame codec, multiplexer, node's stream machinery) is a few
 *   dozen small functions that all get optimized during the first second of a transfer, on
 *   background threads that compete with both ends for the CPU. With less inlining each
 *   optimization is cheaper and fewer of them are thrown away for lack of type feedback (once
 *   optimized, the code runs as fast either way).
 *
 * Measured effects: docs/benchmarks.md.
 */
import v8 from 'node:v8';

interface V8Setting {
  /** The flag's name as node accepts it, without dashes or a `no-` prefix. */
  name: string;
  /** What we set. */
  setting: string;
}

export const BULK_STREAM_V8_SETTINGS: readonly V8Setting[] = Object.freeze([
  { name: 'incremental-marking', setting: '--no-incremental-marking' },
  { name: 'max-inlined-bytecode-size-cumulative', setting: '--max-inlined-bytecode-size-cumulative=60' },
]);

/** The name a node option sets, spelled as in BULK_STREAM_V8_SETTINGS. */
function optionName(arg: string): string {
  const name = arg.slice(2).split('=')[0] ?? '';
  return name.replace(/_/g, '-').replace(/^no-/, '');
}

/** The settings that `argv` (node's own options) does not already decide. */
export function v8SettingsToApply(argv: readonly string[]): string[] {
  const given = new Set(argv.filter((arg) => arg.startsWith('--')).map(optionName));
  return BULK_STREAM_V8_SETTINGS.filter((s) => !given.has(s.name)).map((s) => s.setting);
}

let applied: string[] | undefined;

/** Apply the settings once per process; returns what this call set ('already' after the first). */
export function tuneV8ForBulkStreams(argv: readonly string[] = process.execArgv): string[] | 'already' {
  if (applied !== undefined) return 'already';
  applied = v8SettingsToApply(argv);
  for (const setting of applied) v8.setFlagsFromString(setting);
  return applied;
}

/**
 * For a process that stays up and idles between short runs (the daemon). Idle, V8 gives back
 * what a run grew only through its memory reducer, which works by incremental marking, the one
 * setting the bulk-stream tuning turns off: on an idle daemon after a round of runs, 92 MiB
 * stayed 92 without it and fell to 66 with it. Busy, the bulk-stream setting comes back: with
 * marking on throughout, a daemon run of the 51-dataset tree took 1.09× push -r's
 * (docs/benchmarks.md, Daemon). V8 reads the flag at each collection, so switching is cheap.
 */
export function tuneV8ForIdle(idle: boolean): void {
  v8.setFlagsFromString(idle ? '--incremental-marking' : '--no-incremental-marking');
}
