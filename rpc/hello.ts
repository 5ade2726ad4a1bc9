/** The HELLO exchange: what we announce, and checking what the peer announced. */
import { RpcProtocolError } from './errors.js';
import { PROTOCOL_NAME, SUPPORTED_VERSIONS } from './frame.js';
import { ANNOUNCED_LIMIT_NAMES } from './limits.js';
import type { AnnouncedLimits, RpcLimits } from './limits.js';
import { chooseVersion, decodeHello } from './wire.js';
import type { ConnectionRole, Hello } from './wire.js';

export function buildHello(role: ConnectionRole, limits: RpcLimits, identity: string | undefined): Hello {
  const announced = {} as AnnouncedLimits;
  for (const name of ANNOUNCED_LIMIT_NAMES) announced[name] = limits[name];
  const hello: Hello = {
    protocol: PROTOCOL_NAME,
    versions: [...SUPPORTED_VERSIONS],
    role,
    identity: { software: 'zferry' },
    limits: announced,
    features: [],
  };
  if (identity !== undefined) hello.identity.name = identity;
  return hello;
}

/** The peer's HELLO, checked against ours: the other role and a common version. */
export function acceptHello(payload: Buffer, ourRole: ConnectionRole): { hello: Hello; version: number } {
  const hello = decodeHello(payload);
  if (hello.role === ourRole) throw new RpcProtocolError(`both ends of the connection claim the ${ourRole} role`);
  const version = chooseVersion(SUPPORTED_VERSIONS, hello.versions);
  if (version === undefined) {
    throw new RpcProtocolError(`no common protocol version: we speak ${SUPPORTED_VERSIONS.join(',')}, the peer speaks ${hello.versions.join(',')}`);
  }
  return { hello, version };
}
