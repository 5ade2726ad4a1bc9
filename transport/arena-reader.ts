/**
 * Socket reads into slices of a large arena instead of one fresh 64 KiB buffer per read.
 *
 * By default node allocates a new ArrayBuffer for every read. At a GiB/s that is 16,000
 * ArrayBuffers a second, and in a process with a real heap (zod, pino, the RPC itself) the
 * external-memory pressure they create makes V8 run a full mark-compact every few tens of MiB:
 * the receiving end of a bulk stream then spent most of its CPU in the garbage collector.
 * Here each read fills the next part of the current arena (a new arena when the tail is
 * small), so there is one ArrayBuffer per MiB-sized arena instead.
 *
 * How much one read may take is the transport's choice: TCP reads at most 64 KiB (TCP_MAX_READ_BYTES),
 * the others the whole free part of the arena.
 *
 * The bytes of a read are pushed into the socket as a view (no copy), so the socket stays an
 * ordinary Duplex: 'data' events, pause/resume and backpressure behave as usual. An arena
 * region is written only once, so views handed out stay valid for as long as anyone holds them.
 */
import net from 'node:net';

/** Default arena size; a view held by a consumer keeps its whole arena alive. */
export const DEFAULT_ARENA_BYTES = 1024 * 1024;
/** A read gets at least this much room; a smaller tail is abandoned for a new arena. */
export const MIN_READ_BYTES = 64 * 1024;
/**
 * Most a TCP read takes. Reading up to 1 MiB at a time was measured slower on loopback
 * (docs/benchmarks.md), for the sender as much as for us: the kernel's copy then runs through a megabyte of cold
 * memory per read instead of cache-sized pieces, whose socket buffers get reused while hot.
 * Unix sockets were measured faster with whole-arena reads.
 */
export const TCP_MAX_READ_BYTES = 64 * 1024;

/** Hands out read slices of an arena and turns a finished read into a view of its bytes. */
export class ReadArena {
  readonly arenaBytes: number;
  readonly minReadBytes: number;
  readonly maxReadBytes: number;
  #arena: Buffer;
  #used = 0;
  /** Arenas allocated so far (for tests and diagnostics). */
  arenasAllocated = 1;

  constructor(arenaBytes = DEFAULT_ARENA_BYTES, minReadBytes = Math.min(MIN_READ_BYTES, arenaBytes), maxReadBytes = arenaBytes) {
    const sizes = [arenaBytes, minReadBytes, maxReadBytes];
    if (!sizes.every(Number.isInteger) || minReadBytes < 1 || minReadBytes > maxReadBytes || minReadBytes > arenaBytes) {
      throw new RangeError(`invalid read arena: ${arenaBytes} bytes, reads of ${minReadBytes} to ${maxReadBytes}`);
    }
    this.arenaBytes = arenaBytes;
    this.minReadBytes = minReadBytes;
    this.maxReadBytes = maxReadBytes;
    // allocUnsafeSlow: its own ArrayBuffer, not a slice of node's shared pool.
    this.#arena = Buffer.allocUnsafeSlow(arenaBytes);
  }

  /** Where the next read goes: the next part of the arena, or of a new arena. */
  next(): Buffer {
    if (this.arenaBytes - this.#used < this.minReadBytes) {
      this.#arena = Buffer.allocUnsafeSlow(this.arenaBytes);
      this.#used = 0;
      this.arenasAllocated += 1;
    }
    return this.#arena.subarray(this.#used, this.#used + this.maxReadBytes);
  }

  /**
   * `bytes` were read into `slice` (the last value of next()): return them as a view and
   * mark them used, so no later read overwrites them.
   */
  commit(slice: Buffer, bytes: number): Buffer {
    this.#used += bytes;
    return slice.subarray(0, bytes);
  }
}

export interface OnReadOption {
  buffer: () => Uint8Array;
  callback: (bytes: number, buffer: Uint8Array) => boolean;
}

/**
 * The `onread` option for a net.Socket that will be `target()`: reads go into `arena` and are
 * pushed into the socket; a full read buffer returns false, which stops reading until the
 * consumer asks for more (Socket._read starts it again).
 */
export function arenaOnRead(target: () => net.Socket | undefined, arena = new ReadArena()): OnReadOption {
  return {
    buffer: () => arena.next(),
    callback: (bytes, buffer) => {
      const socket = target();
      if (socket === undefined) return false;
      return socket.push(arena.commit(buffer as Buffer, bytes));
    },
  };
}

/** The internals a socket created by node (e.g. an accepted one) needs for arena reads. */
interface SocketReadInternals {
  kBuffer: symbol;
  kBufferCb: symbol;
  kBufferGen: symbol;
  handle: { reading?: boolean; useUserBuffer(buffer: Uint8Array): void };
}

function readInternals(socket: net.Socket): SocketReadInternals | undefined {
  const symbols = new Map<string | undefined, symbol>(Object.getOwnPropertySymbols(socket).map((s) => [s.description, s]));
  const kBuffer = symbols.get('kBuffer');
  const kBufferCb = symbols.get('kBufferCb');
  const kBufferGen = symbols.get('kBufferGen');
  const handle = (socket as unknown as { _handle?: SocketReadInternals['handle'] | null })._handle;
  if (kBuffer === undefined || kBufferCb === undefined || kBufferGen === undefined) return undefined;
  if (handle == null || typeof handle.useUserBuffer !== 'function' || handle.reading === true) return undefined;
  const fields = socket as unknown as Record<symbol, unknown>;
  // Someone already set onread: leave it alone.
  if (fields[kBuffer] !== null && fields[kBuffer] !== undefined) return undefined;
  return { kBuffer, kBufferCb, kBufferGen, handle };
}

/**
 * Start reading a socket that node created paused (a server's `pauseOnConnect`), with arena
 * reads where this node version lets us install them, plain reads otherwise. Accepted sockets
 * cannot be given the public `onread` option, so this sets the same fields the Socket
 * constructor sets for it; the fallback keeps everything working should they ever change.
 * Returns whether arena reads are in use. Data is buffered until a 'data' listener comes.
 */
export function startArenaReads(socket: net.Socket, arena = new ReadArena()): boolean {
  const internals = readInternals(socket);
  if (internals !== undefined) {
    const onread = arenaOnRead(() => socket, arena);
    const fields = socket as unknown as Record<symbol, unknown>;
    const first = onread.buffer();
    fields[internals.kBufferGen] = onread.buffer;
    fields[internals.kBufferCb] = onread.callback;
    fields[internals.kBuffer] = first;
    internals.handle.useUserBuffer(first);
  }
  // Undo pauseOnConnect without entering flowing mode: bytes wait in the socket until the
  // consumer attaches, as they would on a socket that was never paused.
  (socket as { readableFlowing: boolean | null }).readableFlowing = null;
  socket.read(0);
  return internals !== undefined;
}
