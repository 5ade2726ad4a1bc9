/**
 * Limits of one side of a connection. The first group is announced to the peer in HELLO (what
 * we accept); the second group is local policy (timers) and never leaves this process.
 */
export interface RpcLimits {
  /** Largest frame payload we accept, any type. DATA frames we send use min(ours, peer's). */
  maxFramePayload: number;
  /** Largest JSON payload (HELLO, HEADERS, RESET, GOAWAY) we accept. */
  maxHeaderBytes: number;
  /** Largest reassembled MESSAGE body we accept. */
  maxMessageBytes: number;
  /** Most streams the peer may have open towards us at once. */
  maxConcurrentStreams: number;
  /** DATA credit the peer starts with on each stream it sends on. */
  streamWindow: number;
  /** DATA credit the peer starts with on the whole connection. */
  connectionWindow: number;

  /**
   * Largest window a stream we receive may grow to while it is alone on the connection and
   * its sender is short of credit (see receive-window.ts). Never below `streamWindow`.
   */
  maxStreamWindow: number;
  /**
   * Most bytes of unfinished MESSAGE bodies (fragments waiting for the rest) this connection
   * holds across all its streams; a fragment beyond it resets its stream with
   * RPC_RESOURCE_EXHAUSTED. Never below `maxMessageBytes`: the largest message we accept
   * always fits on its own.
   */
  maxBufferedMessageBytes: number;
  /** Send a PING when nothing arrived for this long. */
  keepaliveIntervalMs: number;
  /** Declare the peer lost when nothing at all arrived for this long. */
  keepaliveTimeoutMs: number;
  /** How long to wait for the peer's HELLO. */
  helloTimeoutMs: number;
  /** How long a graceful close waits for the peer to finish before tearing down. */
  closeTimeoutMs: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_LIMITS: Readonly<RpcLimits> = Object.freeze({
  maxFramePayload: 1 * MiB,
  maxHeaderBytes: 64 * KiB,
  maxMessageBytes: 32 * MiB,
  maxConcurrentStreams: 256,
  // The stream window is a trade-off. A small call sent while a bulk stream saturates the
  // connection waits behind the DATA in flight, up to a window of it (latency under bulk is
  // about window / throughput; measured in docs/benchmarks.md). But one stream
  // gets at most about window / credit round trip. So streams start at 2 MiB, and one alone
  // on the connection grows up to maxStreamWindow when credit is what holds it back
  // (receive-window.ts); it shrinks back once other calls share the connection.
  streamWindow: 2 * MiB,
  connectionWindow: 64 * MiB,
  maxStreamWindow: 16 * MiB,
  maxBufferedMessageBytes: 32 * MiB,
  keepaliveIntervalMs: 15_000,
  keepaliveTimeoutMs: 45_000,
  helloTimeoutMs: 15_000,
  closeTimeoutMs: 10_000,
});

/**
 * The request body an endpoint accepts unless its contract says otherwise (`maxRequestBytes`):
 * most requests are a few names and flags. A larger body is refused with RPC_REQUEST_TOO_LARGE.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * KiB;

/**
 * What an RpcServer holds of unfinished MESSAGE bodies across all its connections, unless told
 * otherwise: with each connection's own budget, what hostile clients can pin stays bounded
 * however many connect.
 */
export const DEFAULT_SERVER_MESSAGE_BUDGET = 48 * MiB;

/** Bounds any announced limit must respect, so a peer cannot make us misbehave. */
export const LIMIT_BOUNDS = Object.freeze({
  maxFramePayload: { min: 16 * KiB, max: 16 * MiB },
  maxHeaderBytes: { min: 4 * KiB, max: 16 * MiB },
  maxMessageBytes: { min: 64 * KiB, max: 1024 * MiB },
  maxConcurrentStreams: { min: 1, max: 1_000_000 },
  streamWindow: { min: 64 * KiB, max: 2 ** 31 - 1 },
  connectionWindow: { min: 64 * KiB, max: 2 ** 31 - 1 },
});

export type AnnouncedLimits = Pick<
  RpcLimits,
  'maxFramePayload' | 'maxHeaderBytes' | 'maxMessageBytes' | 'maxConcurrentStreams' | 'streamWindow' | 'connectionWindow'
>;

export const ANNOUNCED_LIMIT_NAMES = Object.freeze(Object.keys(LIMIT_BOUNDS) as Array<keyof AnnouncedLimits>);

/** Our limits: defaults overridden by `overrides`, checked against LIMIT_BOUNDS. */
export function resolveLimits(overrides: Partial<RpcLimits> | undefined): RpcLimits {
  const limits: RpcLimits = { ...DEFAULT_LIMITS, ...overrides };
  for (const name of ANNOUNCED_LIMIT_NAMES) {
    const value = limits[name];
    const { min, max } = LIMIT_BOUNDS[name];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`RPC limit ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
    }
  }
  const { maxStreamWindow } = limits;
  if (!Number.isInteger(maxStreamWindow) || maxStreamWindow < LIMIT_BOUNDS.streamWindow.min || maxStreamWindow > LIMIT_BOUNDS.streamWindow.max) {
    throw new RangeError(
      `RPC limit maxStreamWindow must be an integer in [${LIMIT_BOUNDS.streamWindow.min}, ${LIMIT_BOUNDS.streamWindow.max}], got ${String(maxStreamWindow)}`,
    );
  }
  const { maxBufferedMessageBytes } = limits;
  if (!Number.isInteger(maxBufferedMessageBytes) || maxBufferedMessageBytes < 0) {
    throw new RangeError(`RPC limit maxBufferedMessageBytes must be a non-negative integer, got ${String(maxBufferedMessageBytes)}`);
  }
  for (const name of ['keepaliveIntervalMs', 'keepaliveTimeoutMs', 'helloTimeoutMs', 'closeTimeoutMs'] as const) {
    const value = limits[name];
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`RPC limit ${name} must be a positive number, got ${String(value)}`);
  }
  return limits;
}
