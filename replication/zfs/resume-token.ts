/**
 * Decodes an OpenZFS `receive_resume_token`, so an endpoint can see which snapshot a token
 * would make `zfs send -t` send before it runs it: zfs itself trusts the token.
 *
 * Format (written by the kernel's `get_receive_resume_token`, read by libzfs's
 * `zfs_send_resume_token_to_nvlist`): `<version>-<checksum>-<packed length>-<payload>`, the
 * version in decimal (1), the rest in hex. The payload is zlib-compressed; inflated, it is
 * `packed length` bytes of an nvlist packed by libnvpair in its *native* encoding (the writing
 * host's struct layout and byte order, which the packed header states). The checksum is the
 * first word of fletcher-4 over the compressed bytes: the sum of its 32-bit words in the
 * writing host's byte order, modulo 2^64 (one to three trailing bytes are not counted).
 */
import { inflateSync } from 'node:zlib';
import { ResumeTokenDecodeError } from './errors.js';

/** A decoded nvlist value: BOOLEAN (a flag, present = true) and BOOLEAN_VALUE both give booleans. */
export type NvValue = boolean | number | bigint | string | readonly bigint[];

export interface ResumeToken {
  /** The snapshot the interrupted send was of, as the sending host named it: `pool/fs@snap`. */
  toname: string;
  /** Its guid, in decimal like every guid zferry handles. */
  toguid: string;
  /** The incremental base's guid (incremental sends only). */
  fromguid?: string;
  /** Where the send resumes. */
  object: bigint;
  offset: bigint;
  /** Bytes received before the interruption, where the token says. */
  bytes?: bigint;
  /** Stream options of the interrupted send (`embedok`, `compressok`, `rawok`, `largeblockok`). */
  flags: { embedded: boolean; compressed: boolean; raw: boolean; largeBlocks: boolean };
  /** Every pair of the nvlist that could be read, including the ones above. */
  pairs: ReadonlyMap<string, NvValue>;
}

const TOKEN_VERSION = 1;
/** Real tokens compress to a few hundred bytes; these bound what a hostile one can cost. */
const MAX_COMPRESSED_BYTES = 64 * 1024;
const MAX_PACKED_BYTES = 64 * 1024;
const TOKEN_PATTERN = /^([0-9]{1,10})-([0-9a-f]{1,16})-([0-9a-f]{1,16})-((?:[0-9a-f]{2})+)$/i;

export function decodeResumeToken(token: string): ResumeToken {
  const match = TOKEN_PATTERN.exec(token);
  if (match === null) throw new ResumeTokenDecodeError('not of the form <version>-<checksum>-<length>-<hex payload>');
  const [, version, checksum, packedLength, payload] = match as unknown as [string, string, string, string, string];
  if (Number(version) !== TOKEN_VERSION) throw new ResumeTokenDecodeError(`token version ${version} (only ${TOKEN_VERSION} is known)`);
  const length = BigInt(`0x${packedLength}`);
  if (length > BigInt(MAX_PACKED_BYTES)) throw new ResumeTokenDecodeError(`packed length ${length} is beyond ${MAX_PACKED_BYTES} bytes`);
  if (payload.length / 2 > MAX_COMPRESSED_BYTES) throw new ResumeTokenDecodeError(`payload is beyond ${MAX_COMPRESSED_BYTES} bytes`);
  const compressed = Buffer.from(payload, 'hex');
  const expected = BigInt(`0x${checksum}`);
  if (fletcher4FirstWord(compressed, true) !== expected && fletcher4FirstWord(compressed, false) !== expected) {
    throw new ResumeTokenDecodeError('checksum mismatch');
  }
  let packed: Buffer;
  try {
    packed = inflateSync(compressed, { maxOutputLength: Math.max(1, Number(length)) });
  } catch (error) {
    throw new ResumeTokenDecodeError('the payload does not inflate to its stated length', { cause: error });
  }
  if (packed.length !== Number(length)) throw new ResumeTokenDecodeError(`the payload inflates to ${packed.length} bytes, not ${length}`);
  return tokenFrom(unpackNativeNvlist(packed));
}

/** Word 0 of fletcher-4: the sum of the 32-bit words. Within MAX_COMPRESSED_BYTES it stays below 2^53. */
export function fletcher4FirstWord(bytes: Buffer, littleEndian: boolean): bigint {
  let sum = 0;
  const end = bytes.length - (bytes.length % 4);
  for (let at = 0; at < end; at += 4) sum += littleEndian ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at);
  return BigInt(sum);
}

function tokenFrom(pairs: Map<string, NvValue>): ResumeToken {
  const toname = pairs.get('toname');
  if (typeof toname !== 'string') throw new ResumeTokenDecodeError('no toname');
  const token: ResumeToken = {
    toname,
    toguid: requiredUint64(pairs, 'toguid').toString(),
    object: requiredUint64(pairs, 'object'),
    offset: requiredUint64(pairs, 'offset'),
    flags: {
      embedded: pairs.get('embedok') === true,
      compressed: pairs.get('compressok') === true,
      raw: pairs.get('rawok') === true,
      largeBlocks: pairs.get('largeblockok') === true,
    },
    pairs,
  };
  const fromguid = optionalUint64(pairs, 'fromguid');
  if (fromguid !== undefined) token.fromguid = fromguid.toString();
  const bytes = optionalUint64(pairs, 'bytes');
  if (bytes !== undefined) token.bytes = bytes;
  return token;
}

function optionalUint64(pairs: Map<string, NvValue>, name: string): bigint | undefined {
  const value = pairs.get(name);
  if (value === undefined) return undefined;
  if (typeof value !== 'bigint' || value < 0n) throw new ResumeTokenDecodeError(`${name} is not an unsigned 64-bit integer`);
  return value;
}

function requiredUint64(pairs: Map<string, NvValue>, name: string): bigint {
  const value = optionalUint64(pairs, name);
  if (value === undefined) throw new ResumeTokenDecodeError(`no ${name}`);
  return value;
}

// ---- libnvpair's native encoding ----

const NV_ENCODE_NATIVE = 0;
const NV_VERSION = 0;
/** The packed header (encoding, endian, 2 reserved) and the nvlist's version and flags. */
const LIST_HEADER_BYTES = 12;
/** nvpair_t: size (int32), name size (int16), reserved (int16), element count (int32), type (int32). */
const PAIR_HEADER_BYTES = 16;

/** data_type_t values of the types read here (sys/nvpair.h). */
const NvType = {
  BOOLEAN: 1,
  BYTE: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  INT64: 7,
  UINT64: 8,
  STRING: 9,
  INT64_ARRAY: 15,
  UINT64_ARRAY: 16,
  HRTIME: 18,
  NVLIST: 19,
  NVLIST_ARRAY: 20,
  BOOLEAN_VALUE: 21,
  INT8: 22,
  UINT8: 23,
} as const;

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * The pairs of a packed nvlist. Pair types not listed in NvType are skipped (each pair states
 * its size); nested nvlists are refused, since their pairs follow outside the pair. A name that
 * appears twice is refused: libnvpair would keep the last one, a reader of the first would be
 * fooled.
 */
function unpackNativeNvlist(packed: Buffer): Map<string, NvValue> {
  if (packed.length < LIST_HEADER_BYTES + 4) throw new ResumeTokenDecodeError('nvlist truncated');
  const encoding = packed[0];
  const endian = packed[1];
  if (encoding !== NV_ENCODE_NATIVE) throw new ResumeTokenDecodeError(`nvlist encoding ${String(encoding)} (tokens use the native encoding)`);
  if (endian !== 0 && endian !== 1) throw new ResumeTokenDecodeError(`nvlist byte order ${String(endian)}`);
  const le = endian === 1;
  const int32 = (at: number): number => (le ? packed.readInt32LE(at) : packed.readInt32BE(at));
  const int16 = (at: number): number => (le ? packed.readInt16LE(at) : packed.readInt16BE(at));
  if (int32(4) !== NV_VERSION) throw new ResumeTokenDecodeError(`nvlist version ${int32(4)}`);

  const pairs = new Map<string, NvValue>();
  let at = LIST_HEADER_BYTES;
  for (;;) {
    if (at + 4 > packed.length) throw new ResumeTokenDecodeError('nvlist ends without its end marker');
    const size = int32(at);
    if (size === 0) {
      at += 4;
      break;
    }
    if (size < PAIR_HEADER_BYTES || size % 8 !== 0 || at + size > packed.length) throw new ResumeTokenDecodeError(`pair of ${size} bytes at offset ${at}`);
    const nameSize = int16(at + 4);
    const elements = int32(at + 8);
    const type = int32(at + 12);
    const nameAt = at + PAIR_HEADER_BYTES;
    const nameEnd = nameAt + nameSize - 1;
    if (nameSize < 2 || PAIR_HEADER_BYTES + nameSize > size || packed.indexOf(0, nameAt) !== nameEnd) {
      throw new ResumeTokenDecodeError(`pair at offset ${at} has a malformed name`);
    }
    const name = packed.toString('utf8', nameAt, nameEnd);
    if (pairs.has(name)) throw new ResumeTokenDecodeError(`${name} appears twice`);
    const value = readValue(packed, le, type, elements, at + align8(PAIR_HEADER_BYTES + nameSize), at + size, name);
    if (value !== undefined) pairs.set(name, value);
    at += size;
  }
  if (at !== packed.length) throw new ResumeTokenDecodeError(`${packed.length - at} bytes after the end of the nvlist`);
  return pairs;
}

function readValue(packed: Buffer, le: boolean, type: number, elements: number, at: number, end: number, name: string): NvValue | undefined {
  const fail = (why: string): never => {
    throw new ResumeTokenDecodeError(`${name}: ${why}`);
  };
  const scalar = (width: number): void => {
    if (elements !== 1) fail(`${elements} elements for a single value`);
    if (at + width > end) fail('value outside its pair');
  };
  switch (type) {
    case NvType.BOOLEAN:
      if (elements !== 0) fail('a flag with a value');
      return true;
    case NvType.BOOLEAN_VALUE:
      scalar(4);
      return (le ? packed.readInt32LE(at) : packed.readInt32BE(at)) !== 0;
    case NvType.BYTE:
    case NvType.UINT8:
      scalar(1);
      return packed.readUInt8(at);
    case NvType.INT8:
      scalar(1);
      return packed.readInt8(at);
    case NvType.INT16:
      scalar(2);
      return le ? packed.readInt16LE(at) : packed.readInt16BE(at);
    case NvType.UINT16:
      scalar(2);
      return le ? packed.readUInt16LE(at) : packed.readUInt16BE(at);
    case NvType.INT32:
      scalar(4);
      return le ? packed.readInt32LE(at) : packed.readInt32BE(at);
    case NvType.UINT32:
      scalar(4);
      return le ? packed.readUInt32LE(at) : packed.readUInt32BE(at);
    case NvType.INT64:
    case NvType.HRTIME:
      scalar(8);
      return le ? packed.readBigInt64LE(at) : packed.readBigInt64BE(at);
    case NvType.UINT64:
      scalar(8);
      return le ? packed.readBigUInt64LE(at) : packed.readBigUInt64BE(at);
    case NvType.STRING: {
      if (elements !== 1) fail(`${elements} elements for a single string`);
      const nul = packed.indexOf(0, at);
      if (nul < 0 || nul >= end) fail('string without its terminating NUL');
      return packed.toString('utf8', at, nul);
    }
    case NvType.INT64_ARRAY:
    case NvType.UINT64_ARRAY: {
      if (elements < 0 || at + 8 * elements > end) fail('array outside its pair');
      const values: bigint[] = [];
      for (let i = 0; i < elements; i++) {
        const offset = at + 8 * i;
        values.push(
          type === NvType.INT64_ARRAY
            ? le
              ? packed.readBigInt64LE(offset)
              : packed.readBigInt64BE(offset)
            : le
              ? packed.readBigUInt64LE(offset)
              : packed.readBigUInt64BE(offset),
        );
      }
      return values;
    }
    case NvType.NVLIST:
    case NvType.NVLIST_ARRAY:
      return fail('nested nvlists are not expected in a resume token');
    default:
      return undefined;
  }
}
