/** A hand-driven protocol peer for tests: sends exactly the frames it is told to, records what arrives. */
import type { Duplex } from 'node:stream';
import { FRAME_HEADER_BYTES, FrameType, PROTOCOL_VERSION, encodeFrame } from '../../rpc/frame.js';
import { DEFAULT_LIMITS } from '../../rpc/limits.js';
import { encodeJson } from '../../rpc/wire.js';
import type { RawFrame } from './rpc-wire.js';
import { waitFor } from './rpc-util.js';

export function helloPayload(overrides: Record<string, unknown> = {}): Buffer {
  const { maxFramePayload, maxHeaderBytes, maxMessageBytes, maxConcurrentStreams, streamWindow, connectionWindow } = DEFAULT_LIMITS;
  return encodeJson({
    protocol: 'zferry-rpc',
    versions: [1],
    role: 'acceptor',
    identity: { software: 'raw-peer' },
    limits: { maxFramePayload, maxHeaderBytes, maxMessageBytes, maxConcurrentStreams, streamWindow, connectionWindow },
    features: [],
    ...overrides,
  });
}

export class RawPeer {
  readonly stream: Duplex;
  readonly frames: RawFrame[] = [];
  ended = false;
  closed = false;
  #buffer = Buffer.alloc(0);

  constructor(stream: Duplex) {
    this.stream = stream;
    stream.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= FRAME_HEADER_BYTES) {
        const length = this.#buffer.readUInt32BE(8);
        if (this.#buffer.length < FRAME_HEADER_BYTES + length) break;
        const bytes = this.#buffer.subarray(0, FRAME_HEADER_BYTES + length);
        this.frames.push({
          version: bytes[0] as number,
          type: bytes[1] as number,
          flags: bytes.readUInt16BE(2),
          streamId: bytes.readUInt32BE(4),
          payload: Buffer.from(bytes.subarray(FRAME_HEADER_BYTES)),
          bytes: Buffer.from(bytes),
        });
        this.#buffer = this.#buffer.subarray(FRAME_HEADER_BYTES + length);
      }
    });
    stream.on('end', () => (this.ended = true));
    stream.on('close', () => (this.closed = true));
    stream.on('error', () => {});
  }

  send(type: number, flags: number, streamId: number, payload?: Buffer): void {
    this.stream.write(encodeFrame(PROTOCOL_VERSION, type, flags, streamId, payload));
  }

  sendJson(type: number, flags: number, streamId: number, value: unknown): void {
    this.send(type, flags, streamId, encodeJson(value));
  }

  sendHello(overrides: Record<string, unknown> = {}): void {
    this.send(FrameType.HELLO, 0, 0, helloPayload(overrides));
  }

  async nextFrame(matches: (frame: RawFrame) => boolean, what: string): Promise<RawFrame> {
    await waitFor(() => this.frames.some(matches), what);
    return this.frames.find(matches) as RawFrame;
  }

  /** The JSON payload of the first frame of `type` (waits for it). */
  async json(type: number, what: string): Promise<Record<string, unknown>> {
    const frame = await this.nextFrame((f) => f.type === type, what);
    return JSON.parse(frame.payload.toString('utf8')) as Record<string, unknown>;
  }

  destroy(): void {
    this.stream.destroy();
  }
}
