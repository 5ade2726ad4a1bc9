/**
 * MESSAGE bodies: plain MessagePack (no msgpackr record extension, so any MessagePack library
 * can read and write them). Maps decode to plain objects; msgpackr renames a `__proto__` key,
 * so a hostile body cannot change prototypes.
 */
import { Packr, Unpackr } from 'msgpackr';
import { RpcProtocolError } from './errors.js';

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false, bundleStrings: false });

export function encodeMessage(value: unknown): Buffer {
  // `undefined` (a handler returning nothing) travels as nil.
  return packr.pack(value === undefined ? null : value);
}

/** Decode one complete body; anything malformed is a protocol error. */
export function decodeMessage(body: Buffer): unknown {
  try {
    return unpackr.unpack(body);
  } catch (err) {
    throw new RpcProtocolError(`MESSAGE body is not valid MessagePack: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
