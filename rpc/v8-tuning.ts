/**
 * V8 settings for processes that move bulk byte streams (every zferry process does). They are
 * runtime flags set when the RPC layer is loaded, so the CLI, `zferry serve --stdio` and any
 * other user of rpc/ get them without a node command-line option. A flag given explicitly on the
 * command line wins.
 *
 * --no-incremental-marking
 *   A receiving end allocates ArrayBuffers at the transfer rate (read arenas, see
 *   transport/arena-reader.ts); they die young, but V8 counts their bytes when deciding to start
 *   incremental marking of the whole heap, so at a GiB/s it marked the heap every few tens of
 *   MiB. Measured over a unix socket, 2 GiB upload: 72 full mark-compacts, receiver 1.4 s
 *   CPU/GiB, 0.5 GiB/s; without incremental marking: 1 mark-compact, 0.5 s/GiB, 1.0 GiB/s.
 *   Scavenges still free the buffers, and a full GC still runs when the heap itself grows,
 *   atomically: with zferry's small heaps that is a pause of a few milliseconds, rarely.
 *
 * --max-inlined-bytecode-size-cumulative=60 (V8's default: 920)
 *   A stream's hot path (socket, frame codec, multiplexer, node's stream machinery) is a few
 *   dozen small functions that all get optimized during the first second of a transfer, on
 *   background threads that compete with both ends for the CPU. With less inlining each
 *   optimization is cheaper and fewer of them are thrown away for lack of type feedback:
 *   TurboFan time per end of a 2 GiB TCP upload fell from 109-117 ms to 71-75 ms, and the
 *   upload went from 3.38 to 3.63 GiB/s (medians of 12; once optimized, the code runs as fast
 *   either way).
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
