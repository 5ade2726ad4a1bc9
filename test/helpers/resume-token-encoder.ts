/**
 * Writes `receive_resume_token` strings the way the OpenZFS kernel does (an nvlist packed in
 * libnvpair's native encoding, zlib level 6, fletcher-4 word 0 of the compressed bytes,
 * `1-<checksum>-<packed length>-<hex>`), for tests that need tokens no genuine fixture has:
 * tokens naming this machine's throwaway pools (zfs-fuse writes no tokens) and hostile ones.
 *
 * A second source only: test/replication/zfs/resume-token.test.ts checks that the nvlist it
 * packs is byte for byte the one inside a genuine OpenZFS token of
 * test/fixtures/zfs/openzfs/resume-tokens.json. The compressed bytes differ (the kernel's zlib
 * chose other matches than node's at the same level); both are valid zlib streams, which is
 * all libzfs asks of them.
 */
import { deflateSync } from 'node:zlib';
import { fletcher4FirstWord } from '../../replication/zfs/resume-token.js';

export type TokenPair =
  | { name: string; type: 'uint64'; value: bigint }
  | { name: string; type: 'string'; value: string }
  | { name: string; type: 'boolean' }
  | { name: string; type: 'uint64_array'; value: readonly bigint[] }
  /** An (empty) nested nvlist: its value is an nvlist_t, its pairs would follow the pair. */
  | { name: string; type: 'nvlist' };

const TYPE_CODES = { boolean: 1, uint64: 8, string: 9, uint64_array: 16, nvlist: 19 } as const;

function align8(n: number): number {
  return (n + 7) & ~7;
}

function valueBytes(pair: TokenPair, le: boolean): { elements: number; bytes: Buffer } {
  switch (pair.type) {
    case 'boolean':
      return { elements: 0, bytes: Buffer.alloc(0) };
    case 'uint64': {
      const bytes = Buffer.alloc(8);
      if (le) bytes.writeBigUInt64LE(pair.value);
      else bytes.writeBigUInt64BE(pair.value);
      return { elements: 1, bytes };
    }
    case 'string':
      return { elements: 1, bytes: Buffer.from(`${pair.value}\0`, 'utf8') };
    case 'uint64_array': {
      const bytes = Buffer.alloc(8 * pair.value.length);
      pair.value.forEach((v, i) => (le ? bytes.writeBigUInt64LE(v, 8 * i) : bytes.writeBigUInt64BE(v, 8 * i)));
      return { elements: pair.value.length, bytes };
    }
    case 'nvlist':
      // sizeof (nvlist_t): version, flags, priv pointer, flag, pad.
      return { elements: 1, bytes: Buffer.alloc(24) };
  }
}

/** The packed nvlist (native encoding), pairs in the given order (libnvpair keeps insertion order). */
export function packNativeNvlist(pairs: readonly TokenPair[], { littleEndian = true } = {}): Buffer {
  const le = littleEndian;
  const int32 = (value: number): Buffer => {
    const b = Buffer.alloc(4);
    if (le) b.writeInt32LE(value);
    else b.writeInt32BE(value);
    return b;
  };
  const parts: Buffer[] = [Buffer.from([0, le ? 1 : 0, 0, 0]), int32(0), int32(1)];
  for (const pair of pairs) {
    const name = Buffer.from(`${pair.name}\0`, 'utf8');
    const { elements, bytes } = valueBytes(pair, le);
    const valueAt = align8(16 + name.length);
    const size = valueAt + align8(bytes.length);
    const record = Buffer.alloc(size);
    int32(size).copy(record, 0);
    if (le) record.writeInt16LE(name.length, 4);
    else record.writeInt16BE(name.length, 4);
    int32(elements).copy(record, 8);
    int32(TYPE_CODES[pair.type]).copy(record, 12);
    name.copy(record, 16);
    bytes.copy(record, valueAt);
    parts.push(record);
  }
  parts.push(int32(0));
  return Buffer.concat(parts);
}

/** A token from already packed bytes (to test what the decoder makes of odd nvlists). */
export function tokenFromPacked(packed: Buffer, { littleEndian = true } = {}): string {
  const compressed = deflateSync(packed, { level: 6 });
  const checksum = fletcher4FirstWord(compressed, littleEndian);
  return `1-${checksum.toString(16)}-${packed.length.toString(16)}-${compressed.toString('hex')}`;
}

export function encodeResumeToken(pairs: readonly TokenPair[], options: { littleEndian?: boolean } = {}): string {
  return tokenFromPacked(packNativeNvlist(pairs, options), options);
}

/** The pairs of a full send's token, in the order the kernel adds them. */
export function fullSendPairs(toname: string, toguid: string, extra: readonly TokenPair[] = []): TokenPair[] {
  return [
    { name: 'object', type: 'uint64', value: 2n },
    { name: 'offset', type: 'uint64', value: 0x4c0000n },
    { name: 'bytes', type: 'uint64', value: 0x4e4228n },
    { name: 'toguid', type: 'uint64', value: BigInt(toguid) },
    { name: 'toname', type: 'string', value: toname },
    ...extra,
  ];
}
