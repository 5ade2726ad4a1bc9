/** Reading the wire in tests: split bytes into frames, and the hex examples of docs/protocol.md. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FRAME_HEADER_BYTES } from '../../rpc/frame.js';

export interface RawFrame {
  version: number;
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
  /** Header and payload, as on the wire. */
  bytes: Buffer;
}

/** Split well-formed bytes into frames (throws on a truncated frame). */
export function splitFrames(bytes: Buffer): RawFrame[] {
  const frames: RawFrame[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < FRAME_HEADER_BYTES) throw new Error(`truncated frame header at ${offset}`);
    const length = bytes.readUInt32BE(offset + 8);
    const end = offset + FRAME_HEADER_BYTES + length;
    if (end > bytes.length) throw new Error(`truncated frame payload at ${offset}`);
    frames.push({
      version: bytes[offset] as number,
      type: bytes[offset + 1] as number,
      flags: bytes.readUInt16BE(offset + 2),
      streamId: bytes.readUInt32BE(offset + 4),
      payload: bytes.subarray(offset + FRAME_HEADER_BYTES, end),
      bytes: bytes.subarray(offset, end),
    });
    offset = end;
  }
  return frames;
}

/** The repository root (works from sources and from the compiled dist/ tree). */
export function repositoryRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('repository root not found');
    dir = parent;
  }
  return dir;
}

/** The bytes of the ```hex block that follows `<!-- golden:NAME -->` in docs/protocol.md. */
export function goldenBytes(name: string): Buffer {
  const text = readFileSync(path.join(repositoryRoot(), 'docs', 'protocol.md'), 'utf8');
  const marker = `<!-- golden:${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`docs/protocol.md has no golden example ${name}`);
  const block = /```hex\n([\s\S]*?)```/.exec(text.slice(at + marker.length));
  if (block === null || block[1] === undefined) throw new Error(`golden example ${name} has no hex block`);
  return Buffer.from(block[1].replace(/\s+/g, ''), 'hex');
}

/** Every golden example name in docs/protocol.md. */
export function goldenNames(): string[] {
  const text = readFileSync(path.join(repositoryRoot(), 'docs', 'protocol.md'), 'utf8');
  return [...text.matchAll(/<!-- golden:([a-z-]+) -->/g)].map((match) => match[1] as string);
}

/** Hex in the layout the docs use: header on one line, payload 30 bytes per line. */
export function formatFrameHex(frame: Buffer): string {
  const hex = (bytes: Buffer): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const lines = [hex(frame.subarray(0, FRAME_HEADER_BYTES))];
  for (let i = FRAME_HEADER_BYTES; i < frame.length; i += 30) lines.push(hex(frame.subarray(i, Math.min(frame.length, i + 30))));
  return lines.join('\n');
}
