/**
 * V8 setting for processes that move bulk byte streams (every zferry process does).
 *
 * A receiving end allocates ArrayBuffers at the transfer rate (read arenas, see
 * transport/arena-reader.ts); they die young, but V8 counts their bytes when deciding to
 * start incremental marking of the whole heap, so at a GiB/s it marked the heap every few
 * tens of MiB. Measured over a unix socket, 2 GiB upload: 72 full mark-compacts, receiver
 * 1.4 s CPU/GiB, 0.5 GiB/s; without incremental marking: 1 mark-compact, 0.5 s/GiB, 1.0 GiB/s.
 * Scavenges still free the buffers, and a full GC still runs when the heap itself grows,
 * atomically: with zferry's small heaps that is a pause of a few milliseconds, rarely.
 *
 * No code change avoids it (the bytes must be allocated: consumers may keep any chunk), and
 * the CLI must get it too, hence a runtime flag set when the RPC layer is loaded. A flag
 * given explicitly on the command line (--incremental-marking) wins.
 */
import v8 from 'node:v8';

export type GcTuning = 'applied' | 'explicit' | 'already';

let state: GcTuning | undefined;

/** Turn incremental marking off once per process, unless the command line says otherwise. */
export function tuneGcForBulkStreams(argv: readonly string[] = process.execArgv): GcTuning {
  if (state !== undefined) return 'already';
  const explicit = argv.some((arg) => /^--(no-)?incremental[-_]marking$/.test(arg));
  if (!explicit) v8.setFlagsFromString('--no-incremental-marking');
  state = explicit ? 'explicit' : 'applied';
  return state;
}
