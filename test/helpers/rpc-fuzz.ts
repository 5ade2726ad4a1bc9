/** Random and mutated frame sequences for fuzzing the RPC decoder and connection. */
import { FrameFlag, FrameType, PROTOCOL_VERSION, encodeFrame } from '../../rpc/frame.js';
import { encodeMessage } from '../../rpc/message-codec.js';
import { encodeJson, encodePing, encodeWindow } from '../../rpc/wire.js';
import { helloPayload } from './rpc-raw-peer.js';

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
      return encodeFrame(v, FrameType.HEADERS, random.below(2), stream, encodeJson({ kind: random.pick(['response', 'trailer']), ok: random.chance(0.5), error: { code: 'RPC_REMOTE', message: 'x' } }));
    case 2:
      return encodeFrame(v, FrameType.MESSAGE, random.pick([0, FrameFlag.END, FrameFlag.MORE]), stream, encodeMessage(random.pick([{ a: 1, b: 2 }, { name: 'n' }, { bytes: 10 }, { ms: 5 }, [1, 2], 'text', null])));
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
      return encodeFrame(v, FrameType.GOAWAY, random.chance(0.5) ? FrameFlag.ACK : 0, 0, encodeJson({ lastStreamId: random.below(10), code: random.pick(['RPC_GOAWAY', 'RPC_PROTOCOL']), message: 'bye' }));
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

  /** What a peer playing `role` might send. */
  sequence(role: 'initiator' | 'acceptor'): Buffer {
    const random = this.random;
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
