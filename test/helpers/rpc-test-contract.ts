/** A small contract exercising every RPC feature, with an implementation, for the RPC tests. */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineContract, endpoint } from '../../rpc/index.js';
import type { CallContext, Implementation } from '../../rpc/index.js';

export const testContract = defineContract('zferry.test.v1', {
  /** Takes bodies up to the connection's maxMessageBytes (for message-size tests); `add` keeps the default limit. */
  echo: endpoint({
    maxRequestBytes: 1024 * 1024 * 1024,
    request: z.object({ text: z.string(), n: z.number().int().optional() }),
    response: z.object({ text: z.string(), n: z.number().int().optional(), peer: z.string(), metadata: z.record(z.string(), z.string()) }),
  }),
  add: endpoint({ request: z.object({ a: z.number(), b: z.number() }), response: z.object({ sum: z.number() }) }),
  /** Throws an error with `code` and `details`. */
  fail: endpoint({ request: z.object({ code: z.string(), message: z.string() }), response: z.object({}) }),
  /** Waits until cancelled (reports how it ended through `observe`), or `ms` elapsed. */
  wait: endpoint({ request: z.object({ ms: z.number().int() }), response: z.object({ waited: z.number() }) }),
  /** Returns something that violates its own response schema. */
  lie: endpoint({ request: z.object({}), response: z.object({ count: z.number().int() }) }),
  /** Consumes a request stream; answers its size and sha256. Fails early with `failAfter` bytes read. */
  upload: endpoint({
    stream: 'request',
    request: z.object({ name: z.string(), failAfter: z.number().int().optional() }),
    response: z.object({ bytes: z.number(), sha256: z.string() }),
  }),
  /** Produces `bytes` bytes of a deterministic pattern; `failAt` makes the source fail there. */
  download: endpoint({
    stream: 'response',
    request: z.object({ bytes: z.number().int().nonnegative(), chunk: z.number().int().positive().optional(), failAt: z.number().int().optional() }),
    response: z.object({ bytes: z.number() }),
  }),
});

export type TestContract = typeof testContract;

/** What handlers observed, for asserting the serving side. */
export interface TestObservations {
  /** How each `wait` ended: 'elapsed' or the class name of ctx.signal.reason. */
  waits: string[];
  /** Errors the upload handler saw on its request stream. */
  uploadErrors: Error[];
  /** How each download source ended: 'end' | 'destroyed'. */
  downloads: string[];
  /** Deadlines handlers were given (ctx.deadline). */
  deadlines: Array<number | undefined>;
  /** Bytes all download sources produced so far. */
  produced: number;
  /** Emits 'wait-started' when a `wait` handler runs, 'upload-started' when an upload does. */
  events: EventEmitter;
}

export class TestFailure extends Error {
  readonly code: string;
  readonly details: unknown;
  constructor(code: string, message: string, details: unknown) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** The pattern repeats with a prime period, so misplaced or repeated chunks change the digest. */
const PATTERN_PERIOD = 65_521;
const MAX_PATTERN_CHUNK = 1024 * 1024;
const PATTERN = Buffer.alloc(PATTERN_PERIOD + MAX_PATTERN_CHUNK);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = ((i % PATTERN_PERIOD) * 31 + ((i % PATTERN_PERIOD) >>> 7)) & 0xff;

/** `length` pattern bytes starting at stream offset `offset` (a fresh buffer). */
function patternSlice(offset: number, length: number): Buffer {
  const start = offset % PATTERN_PERIOD;
  return Buffer.from(PATTERN.subarray(start, start + length));
}

export interface PatternOptions {
  /** Bytes per chunk (default 64 KiB). */
  chunk?: number | undefined;
  /** Fail (destroy with an error) once this many bytes were produced. */
  failAt?: number | undefined;
  /** 'end' or 'destroyed', once. */
  onEnd?: (how: string) => void;
  onChunk?: (bytes: number) => void;
}

export function patternStream(total: number, options: PatternOptions = {}): Readable {
  const { chunk = 64 * 1024, failAt, onEnd, onChunk } = options;
  if (chunk > MAX_PATTERN_CHUNK) throw new RangeError(`pattern chunks are at most ${MAX_PATTERN_CHUNK} bytes`);
  let offset = 0;
  // Chunks come asynchronously, as from a pipe (a synchronous source would run to its end in one tick).
  const produce = (stream: Readable): void => {
    if (stream.destroyed) return;
    if (failAt !== undefined && offset >= failAt) {
      stream.destroy(new Error(`source broke at byte ${offset}`));
      return;
    }
    if (offset >= total) {
      stream.push(null);
      return;
    }
    const end = Math.min(total, offset + chunk, failAt ?? Infinity);
    const buffer = patternSlice(offset, end - offset);
    offset = end;
    onChunk?.(buffer.length);
    stream.push(buffer);
  };
  const stream = new Readable({
    highWaterMark: chunk,
    read() {
      setImmediate(produce, this);
    },
  });
  stream.once('end', () => onEnd?.('end'));
  stream.once('close', () => {
    if (!stream.readableEnded) onEnd?.('destroyed');
  });
  return stream;
}

/** sha256 and length of the pattern's first `bytes` bytes. */
export function patternDigest(bytes: number): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  for (let offset = 0; offset < bytes; offset += MAX_PATTERN_CHUNK) {
    const length = Math.min(MAX_PATTERN_CHUNK, bytes - offset);
    const start = offset % PATTERN_PERIOD;
    hash.update(PATTERN.subarray(start, start + length));
  }
  return { bytes, sha256: hash.digest('hex') };
}

export function testImplementation(observed: TestObservations = emptyObservations()): Implementation<TestContract> {
  return {
    async echo(req, ctx) {
      observed.deadlines.push(ctx.deadline);
      return { ...req, peer: ctx.peer.name, metadata: ctx.metadata };
    },
    async add({ a, b }) {
      return { sum: a + b };
    },
    async fail({ code, message }) {
      throw new TestFailure(code, message, { hint: 'from the handler' });
    },
    async wait({ ms }, ctx: CallContext) {
      observed.events.emit('wait-started');
      try {
        await sleep(ms, undefined, { signal: ctx.signal });
        observed.waits.push('elapsed');
        return { waited: ms };
      } catch (error) {
        const reason: unknown = ctx.signal.reason;
        observed.waits.push(reason instanceof Error ? reason.constructor.name : String(error));
        throw error;
      }
    },
    async lie() {
      return { count: 'many' } as unknown as { count: number };
    },
    async upload({ failAfter }, stream) {
      const hash = createHash('sha256');
      let bytes = 0;
      observed.events.emit('upload-started');
      try {
        for await (const chunk of stream) {
          hash.update(chunk as Buffer);
          bytes += (chunk as Buffer).length;
          if (failAfter !== undefined && bytes >= failAfter) throw new TestFailure('EDISKFULL', `no space after ${bytes} bytes`, undefined);
        }
      } catch (error) {
        if (!(error instanceof TestFailure)) observed.uploadErrors.push(error as Error);
        throw error;
      }
      return { bytes, sha256: hash.digest('hex') };
    },
    async download({ bytes, chunk, failAt }) {
      const stream = patternStream(bytes, {
        chunk,
        failAt,
        onEnd: (how) => observed.downloads.push(how),
        onChunk: (length) => (observed.produced += length),
      });
      return { response: { bytes }, stream };
    },
  };
}

export function emptyObservations(): TestObservations {
  return { waits: [], uploadErrors: [], downloads: [], deadlines: [], produced: 0, events: new EventEmitter() };
}
