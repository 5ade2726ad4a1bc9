/** Random and mutated frame sequences for fuzzing the RPC decoder and connection, and a transport to feed them through. */
import { randomInt } from 'node:crypto';
import { Duplex } from 'node:stream';
import { FrameFlag, FrameType, PROTOCOL_VERSION, encodeFrame } from '../../rpc/frame.js';
import { encodeMessage } from '../../rpc/message-codec.js';
import type { PeerIdentity, TransportConnection } from '../../transport/types.js';
import { encodeJson, encodePing, encodeWindow } from '../../rpc/wire.js';
import { helloPayload } from './rpc-raw-peer.js';

/** The seed `npm test` fuzzes with unless ZFERRY_FUZZ_SEED names another (or `random`). */
export const DEFAULT_FUZZ_SEED = 0x5eed_2026;

/** The seed of a fuzz run: ZFERRY_FUZZ_SEED when set (to replay a failure or explore). Failures name it. */
export function fuzzSeed(): number {
  const given = process.env['ZFERRY_FUZZ_SEED'];
  // One fixed seed by default, so a CI run is reproducible; `random` explores new inputs.
  if (given === undefined || given === '') return DEFAULT_FUZZ_SEED;
  if (given === 'random') return randomInt(1, 0xffff_ffff);
  const seed = Number(given);
  if (!Number.isInteger(seed) || seed <= 0 || seed > 0xffff_ffff) throw new RangeError(`ZFERRY_FUZZ_SEED must be an integer in [1, 2^32-1], got ${given}`);
  return seed;
}

/** A small seeded PRNG (xorshift32): failures can be replayed from the seed. */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }
  below(n: number): number {
    return this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)] as T;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

const ENDPOINTS = ['zferry.test.v1/add', 'zferry.test.v1/upload', 'zferry.test.v1/download', 'zferry.test.v1/wait', 'nope/x'];

/** One plausible frame: mostly well-formed, so mutations reach deep into the state machine. */
export function plausibleFrame(random: Random, streamIds: readonly number[]): Buffer {
  const stream = random.pick(streamIds);
  const v = PROTOCOL_VERSION;
  switch (random.below(11)) {
    case 0:
      return encodeFrame(v, FrameType.HEADERS, 0, stream, encodeJson({ kind: 'request', endpoint: random.pick(ENDPOINTS), metadata: {} }));
    case 1:
      return encodeFrame(
        v,
        FrameType.HEADERS,
        random.below(2),
        stream,
        encodeJson({ kind: random.pick(['response', 'trailer']), ok: random.chance(0.5), error: { code: 'RPC_REMOTE', message: 'x' } }),
      );
    case 2:
      return encodeFrame(
        v,
        FrameType.MESSAGE,
        random.pick([0, FrameFlag.END, FrameFlag.MORE]),
        stream,
        encodeMessage(random.pick([{ a: 1, b: 2 }, { name: 'n' }, { bytes: 10 }, { ms: 5 }, [1, 2], 'text', null])),
      );
    case 3:
      return encodeFrame(v, FrameType.DATA, 0, stream, random.bytes(random.below(64)));
    case 4:
      return encodeFrame(v, FrameType.WINDOW, 0, random.chance(0.3) ? 0 : stream, encodeWindow(1 + random.below(1 << 20)));
    case 5:
      return encodeFrame(v, FrameType.RESET, 0, stream, encodeJson({ code: random.pick(['RPC_CANCELLED', 'RPC_DEADLINE_EXCEEDED', 'X']), message: 'r' }));
    case 6:
      return encodeFrame(v, FrameType.PING, 0, 0, encodePing(BigInt(random.next())));
    case 7:
      return encodeFrame(v, FrameType.PONG, 0, 0, encodePing(BigInt(random.next())));
    case 8:
      return encodeFrame(
        v,
        FrameType.GOAWAY,
        random.chance(0.5) ? FrameFlag.ACK : 0,
        0,
        encodeJson({ lastStreamId: random.below(10), code: random.pick(['RPC_GOAWAY', 'RPC_PROTOCOL']), message: 'bye' }),
      );
    case 9:
      return encodeFrame(v, FrameType.HEADERS, FrameFlag.END, stream, encodeJson({ kind: 'trailer', ok: true }));
    default:
      return encodeFrame(v, FrameType.MESSAGE, FrameFlag.MORE, stream, random.bytes(random.below(32)));
  }
}

/** Damage a frame: flip bytes, rewrite header fields, truncate or extend. */
export function mutate(random: Random, frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  switch (random.below(7)) {
    case 0:
      if (out.length > 0) out[random.below(out.length)] = random.next() & 0xff;
      return out;
    case 1:
      if (out.length >= 12) out.writeUInt32BE(random.chance(0.5) ? random.next() : random.below(out.length * 2 + 1), 8);
      return out;
    case 2:
      if (out.length >= 2) out[1] = random.below(12);
      return out;
    case 3:
      if (out.length >= 4) out.writeUInt16BE(random.below(16), 2);
      return out;
    case 4:
      if (out.length >= 8) out.writeUInt32BE(random.below(12), 4);
      return out;
    case 5:
      return out.subarray(0, random.below(out.length + 1));
    default:
      return Buffer.concat([out, random.bytes(random.below(16))]);
  }
}

/**
 * Byte sequences: a valid HELLO (usually), then plausible frames, some mutated, or pure noise.
 * Frames come from a pool built once, so generating a sequence is cheap.
 */
export class FrameFuzzer {
  readonly random: Random;
  readonly #hello: Record<'initiator' | 'acceptor', Buffer>;
  readonly #pool: Record<'initiator' | 'acceptor', Buffer[]>;

  constructor(random: Random, poolSize = 2000) {
    this.random = random;
    const hello = (role: string): Buffer => encodeFrame(PROTOCOL_VERSION, FrameType.HELLO, 0, 0, helloPayload({ role }));
    this.#hello = { initiator: hello('initiator'), acceptor: hello('acceptor') };
    const pool = (ids: number[]): Buffer[] =>
      Array.from({ length: poolSize }, () => plausibleFrame(random, random.chance(0.9) ? ids : [0, 1, 2, 3, 0xffffffff]));
    this.#pool = { initiator: pool([1, 3, 5, 7]), acceptor: pool([2, 4, 6, 8]) };
  }

  /** What a peer playing `role` might send (drawn from `random`, by default the fuzzer's own). */
  sequence(role: 'initiator' | 'acceptor', random = this.random): Buffer {
    const parts: Buffer[] = [];
    if (random.chance(0.95)) parts.push(this.#hello[role]);
    if (random.chance(0.1)) {
      parts.push(random.bytes(random.below(200)));
      return Buffer.concat(parts);
    }
    const count = 1 + random.below(12);
    for (let i = 0; i < count; i++) {
      const frame = random.pick(this.#pool[role]);
      parts.push(random.chance(0.08) ? mutate(random, frame) : frame);
    }
    return Buffer.concat(parts);
  }
}

/** Split `bytes` into random pieces, as a network would deliver them. */
export function randomChunks(random: Random, bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const size = random.chance(0.5) ? bytes.length - offset : 1 + random.below(Math.max(1, bytes.length - offset));
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** Requests a fuzzed peer makes of the test contract (test/helpers/rpc-test-contract.ts). */
const CALLS: ReadonlyArray<{ endpoint: string; body: Buffer; requestStream: boolean }> = [
  { endpoint: 'zferry.test.v1/add', body: encodeMessage({ a: 1, b: 2 }), requestStream: false },
  { endpoint: 'zferry.test.v1/echo', body: encodeMessage({ text: 'hi' }), requestStream: false },
  { endpoint: 'zferry.test.v1/wait', body: encodeMessage({ ms: 1 }), requestStream: false },
  { endpoint: 'zferry.test.v1/fail', body: encodeMessage({ code: 'E_FUZZ', message: 'm' }), requestStream: false },
  { endpoint: 'zferry.test.v1/download', body: encodeMessage({ bytes: 100, chunk: 30 }), requestStream: false },
  { endpoint: 'zferry.test.v1/upload', body: encodeMessage({ name: 'u' }), requestStream: true },
  { endpoint: 'zferry.test.v1/add', body: encodeMessage({ a: 'not a number' }), requestStream: false },
  { endpoint: 'nope/x', body: encodeMessage({}), requestStream: false },
];

/** Bodies that need fragments: around the sizes a fuzz server's limits are set to (64 KiB request limit, 128 KiB messages). */
const LARGE_BODIES: readonly Buffer[] = [20_000, 60_000, 100_000, 140_000].map((size) => encodeMessage({ text: 'x'.repeat(size) }));
const LARGE_ENDPOINTS = ['zferry.test.v1/echo', 'zferry.test.v1/add'];

/**
 * Client sessions for fuzzing a serving connection: a peer that mostly keeps the rules — opens
 * streams with rising ids (now and then skipping some), sends bodies whole or in fragments,
 * byte streams, RESETs, WINDOWs, PINGs, GOAWAY — and now and then breaks one: a request on a
 * lower, reused or skipped id, a body over a limit or never finished, a frame out of order, a
 * damaged frame, frame soup. A session is delivered in episodes (the first one starts with
 * HELLO), so one connection lives through many of them. Meant for a server with
 * FUZZ_SERVER_LIMITS.
 */
export class ConversationFuzzer {
  readonly #frames: FrameFuzzer;
  readonly hello = encodeFrame(PROTOCOL_VERSION, FrameType.HELLO, 0, 0, helloPayload({ role: 'initiator' }));

  constructor(random: Random) {
    this.#frames = new FrameFuzzer(random, 500);
  }

  /** A session drawn from its own `random`: it can be replayed alone. */
  session(random: Random): FuzzSession {
    return new FuzzSession(random, this.hello, () => this.#frames.sequence('initiator', random).subarray(this.hello.length));
  }
}

export class FuzzSession {
  readonly random: Random;
  readonly #hello: Buffer;
  readonly #soup: () => Buffer;
  #started = false;
  #nextId = 1;
  readonly #used: number[] = [];

  constructor(random: Random, hello: Buffer, soup: () => Buffer) {
    this.random = random;
    this.#hello = hello;
    this.#soup = soup;
  }

  /** The next few steps of the session, as bytes. */
  episode(): Buffer {
    const random = this.random;
    const parts: Buffer[] = [];
    if (!this.#started) {
      this.#started = true;
      if (random.chance(0.99)) parts.push(this.#hello);
    }
    const frame = (type: number, flags: number, id: number, payload?: Buffer): void => {
      const bytes = encodeFrame(PROTOCOL_VERSION, type, flags, id, payload);
      parts.push(random.chance(0.003) ? mutate(random, bytes) : bytes);
    };
    const request = (id: number, endpoint: string): void => frame(FrameType.HEADERS, 0, id, encodeJson({ kind: 'request', endpoint, metadata: {} }));
    const used = (): number => (this.#used.length === 0 ? 1 : random.pick(this.#used));
    const newId = (): number => {
      if (random.chance(0.1)) this.#nextId += 2 * (1 + random.below(3));
      const id = this.#nextId;
      this.#nextId += 2;
      this.#used.push(id);
      if (this.#used.length > 32) this.#used.shift();
      return id;
    };
    for (let step = 1 + random.below(3); step > 0; step--) {
      // Frames on earlier streams need one first.
      const roll = this.#used.length === 0 ? random.below(60) : random.below(100);
      if (roll < 47) {
        // A complete call.
        const id = newId();
        const call = random.pick(CALLS);
        request(id, call.endpoint);
        frame(FrameType.MESSAGE, call.requestStream ? 0 : FrameFlag.END, id, call.body);
        if (call.requestStream) {
          for (let i = random.below(3); i > 0; i--) frame(FrameType.DATA, 0, id, random.bytes(random.below(40)));
          if (random.chance(0.9)) {
            const trailer = random.chance(0.8)
              ? { kind: 'trailer', ok: true }
              : { kind: 'trailer', ok: false, error: { code: 'RPC_STREAM_SOURCE', message: 'source failed' } };
            frame(FrameType.HEADERS, FrameFlag.END, id, encodeJson(trailer));
          }
        }
      } else if (roll < 59) {
        // A large body in fragments: within or over the limits, finished or left hanging.
        const id = newId();
        request(id, random.pick(LARGE_ENDPOINTS));
        const body = random.pick(LARGE_BODIES);
        const fragments = 2 + random.below(3);
        const size = Math.ceil(body.length / fragments);
        const sent = random.chance(0.5) ? fragments : random.below(fragments);
        for (let i = 0; i < sent; i++) {
          const last = i === fragments - 1;
          frame(FrameType.MESSAGE, last ? FrameFlag.END : FrameFlag.MORE, id, body.subarray(i * size, Math.min(body.length, (i + 1) * size)));
        }
      } else if (roll < 60) {
        parts.push(this.#soup());
      } else if (roll < 70) {
        frame(FrameType.RESET, 0, used(), encodeJson({ code: random.pick(['RPC_CANCELLED', 'RPC_DEADLINE_EXCEEDED', 'X_OTHER']), message: 'fuzz' }));
      } else if (roll < 80) {
        frame(FrameType.WINDOW, 0, random.chance(0.5) ? 0 : used(), encodeWindow(1 + random.below(1 << 16)));
      } else if (roll < 90) {
        frame(random.chance(0.8) ? FrameType.PING : FrameType.PONG, 0, 0, encodePing(BigInt(random.next())));
      } else if (roll < 92) {
        // A request on an id at or below one already used: lower, reused or skipped.
        request(Math.max(1, used() - 2 * random.below(3)), random.pick(CALLS).endpoint);
      } else if (roll < 94) {
        frame(FrameType.MESSAGE, random.pick([0, FrameFlag.MORE, FrameFlag.END]), used(), random.bytes(random.below(24)));
      } else if (roll < 96) {
        frame(FrameType.DATA, 0, used(), random.bytes(random.below(24)));
      } else if (roll < 98) {
        frame(FrameType.GOAWAY, random.chance(0.3) ? FrameFlag.ACK : 0, 0, encodeJson({ lastStreamId: random.below(4), code: 'RPC_GOAWAY', message: 'bye' }));
      } else {
        parts.push(this.#soup());
      }
    }
    return Buffer.concat(parts);
  }
}

/** Limits for a server fed by ConversationFuzzer: small enough that its bodies reach them. */
export const FUZZ_SERVER_LIMITS = Object.freeze({
  maxMessageBytes: 128 * 1024,
  maxBufferedMessageBytes: 128 * 1024,
  keepaliveIntervalMs: 60_000,
  keepaliveTimeoutMs: 120_000,
});

/**
 * A transport whose other end is the test: deliver() hands bytes to the connection at once
 * (no event-loop turn per chunk), and what the connection writes is kept in `written`.
 */
export class FuzzTransport implements TransportConnection {
  readonly peer: PeerIdentity = { transport: 'pipe', name: 'fuzzer' };
  readonly stream: Duplex;
  readonly written: Buffer[] = [];

  constructor() {
    const written = this.written;
    this.stream = new Duplex({
      allowHalfOpen: true,
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk);
        callback();
      },
    });
    this.stream.on('error', () => {});
  }

  deliver(chunk: Buffer): void {
    if (!this.stream.destroyed) this.stream.emit('data', chunk);
  }

  /** The peer ends its side. */
  end(): void {
    if (!this.stream.destroyed) this.stream.push(null);
  }

  close(): void {
    this.stream.destroy();
  }
}
