/**
 * Frame layout (docs/protocol.md): a fixed 12-byte big-endian header, then the payload.
 *
 *   u8 version | u8 type | u16 flags | u32 stream id | u32 payload length
 */

export const PROTOCOL_NAME = 'zferry-rpc';
export const PROTOCOL_VERSION = 1;
/** Versions this implementation speaks, best first. */
export const SUPPORTED_VERSIONS: readonly number[] = Object.freeze([1]);

export const FRAME_HEADER_BYTES = 12;
/** HELLO is read before limits are known, so it has its own fixed cap. */
export const MAX_HELLO_BYTES = 64 * 1024;
export const MAX_STREAM_ID = 0xffff_ffff;

export const FrameType = {
  HELLO: 0x1,
  HEADERS: 0x2,
  MESSAGE: 0x3,
  DATA: 0x4,
  WINDOW: 0x5,
  RESET: 0x6,
  PING: 0x7,
  PONG: 0x8,
  GOAWAY: 0x9,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const FrameFlag = {
  /** The sender is done with its half of the stream. */
  END: 0x1,
  /** The MESSAGE continues in the next MESSAGE frame of the stream. */
  MORE: 0x2,
  /** GOAWAY sent in answer to the peer's GOAWAY. */
  ACK: 0x4,
} as const;

export const FRAME_TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(FrameType).map(([name, value]) => [value, name])),
);

/** Which flags each type may carry; any other bit set is a protocol error. */
export const ALLOWED_FLAGS: Readonly<Record<number, number>> = Object.freeze({
  [FrameType.HELLO]: 0,
  [FrameType.HEADERS]: FrameFlag.END,
  [FrameType.MESSAGE]: FrameFlag.END | FrameFlag.MORE,
  [FrameType.DATA]: 0, // a byte stream ends with a trailer HEADERS frame, not a flag
  [FrameType.WINDOW]: 0,
  [FrameType.RESET]: 0,
  [FrameType.PING]: 0,
  [FrameType.PONG]: 0,
  [FrameType.GOAWAY]: FrameFlag.ACK,
});

/** Types that live on stream 0 (the connection) only; the others never use stream 0, except WINDOW. */
export const CONNECTION_FRAME_TYPES: ReadonlySet<number> = new Set([FrameType.HELLO, FrameType.PING, FrameType.PONG, FrameType.GOAWAY]);

/** Payload sizes fixed by the format. */
export const WINDOW_PAYLOAD_BYTES = 4;
export const PING_PAYLOAD_BYTES = 8;

/** Types whose payload is JSON (bounded by maxHeaderBytes). */
export const JSON_FRAME_TYPES: ReadonlySet<number> = new Set([FrameType.HELLO, FrameType.HEADERS, FrameType.RESET, FrameType.GOAWAY]);

export function writeFrameHeader(target: Buffer, offset: number, version: number, type: number, flags: number, streamId: number, length: number): void {
  target[offset] = version;
  target[offset + 1] = type;
  target.writeUInt16BE(flags, offset + 2);
  target.writeUInt32BE(streamId, offset + 4);
  target.writeUInt32BE(length, offset + 8);
}

export function encodeFrameHeader(version: number, type: number, flags: number, streamId: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeFrameHeader(header, 0, version, type, flags, streamId, length);
  return header;
}

/** A whole frame in one buffer: for tests, docs and small control frames. */
export function encodeFrame(version: number, type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(frame, 0, version, type, flags, streamId, payload.length);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export function frameTypeName(type: number): string {
  return FRAME_TYPE_NAMES[type] ?? `0x${type.toString(16)}`;
}
