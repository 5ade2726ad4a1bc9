/**
 * MESSAGE bodies: plain MessagePack (no msgpackr record extension, so any MessagePack library
 * can read and write them). Maps decode to plain objects; msgpackr renames a `__proto__` key,
 * so a hostile body cannot change prototypes. Extension types and the reserved 0xc1 byte are
 * refused, so what reaches the validators is only what JSON-like data can be.
 */
import { Packr, Unpackr } from 'msgpackr';
import { RpcProtocolError, errorMessage } from './errors.js';

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false, bundleStrings: false });

/** Deeper nesting than this is refused (and would otherwise risk the stack). */
const MAX_DEPTH = 256;

export function encodeMessage(value: unknown): Buffer {
  // `undefined` (a handler returning nothing) travels as nil.
  return packr.pack(value === undefined ? null : value);
}

/** Decode one complete body; anything malformed or outside plain MessagePack is a protocol error. */
export function decodeMessage(body: Buffer): unknown {
  let value: unknown;
  try {
    value = unpackr.unpack(body);
  } catch (err) {
    throw new RpcProtocolError(`MESSAGE body is not valid MessagePack: ${errorMessage(err)}`, { cause: err });
  }
  const problem = plainProblem(value, 0);
  if (problem !== undefined) throw new RpcProtocolError(`MESSAGE body is not valid MessagePack: ${problem}`);
  return value;
}

/** Why `value` is not plain MessagePack data (undefined when it is). */
function plainProblem(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return undefined;
    case 'object': {
      if (value === null || value instanceof Uint8Array) return undefined;
      if (depth >= MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} levels`;
      if (Array.isArray(value)) {
        for (const item of value) {
          const problem = plainProblem(item, depth + 1);
          if (problem !== undefined) return problem;
        }
        return undefined;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return 'extension types and the reserved byte 0xc1 are not allowed';
      for (const key in value) {
        const problem = plainProblem((value as Record<string, unknown>)[key], depth + 1);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    default:
      return 'extension types are not allowed';
  }
}
