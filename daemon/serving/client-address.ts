/**
 * Who a tcp client is, by its address (zrepl's `clients` map of a `serve: {type: tcp}`): an exact
 * address beats a range, of ranges the longest prefix wins, and a `*` in the identity is replaced
 * by the client's address. An IPv4 client reached over an IPv6 socket (`::ffff:192.0.2.10`) is
 * matched as the IPv4 address it is. No rule matching: no identity, the client is refused.
 */
import net from 'node:net';
import type { ClientAddressRule } from '../../config/types.js';

/** The identity of a client at `address`, or undefined when no rule covers it. */
export function identityOfAddress(rules: readonly ClientAddressRule[], address: string): string | undefined {
  const peer = plainAddress(address);
  const family = net.isIPv4(peer) ? 4 : net.isIPv6(peer) ? 6 : undefined;
  if (family === undefined) return undefined;
  let best: ClientAddressRule | undefined;
  for (const rule of rules) {
    if (rule.family !== family || !covers(rule, peer)) continue;
    if (best === undefined || rule.prefixLength > best.prefixLength) best = rule;
  }
  // An IPv6 address in an identity keeps its colons (allowed in a dataset component).
  return best?.identity.replace('*', peer);
}

/** `::ffff:a.b.c.d` as `a.b.c.d`; brackets and a zone index dropped. */
export function plainAddress(address: string): string {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  return mapped?.[1] ?? bare.toLowerCase();
}

function covers(rule: ClientAddressRule, peer: string): boolean {
  const list = new net.BlockList();
  const type = rule.family === 4 ? 'ipv4' : 'ipv6';
  try {
    list.addSubnet(rule.address, rule.prefixLength, type);
  } catch {
    return false; // config/ validated it; a rule that does not read covers nobody
  }
  return list.check(peer, type);
}
