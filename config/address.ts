/**
 * Network addresses as the configuration writes them: `listen` (`:8888`, `0.0.0.0:8888`,
 * `[::]:8888`), a connect's `address` (`backup.example.com:8888`, `[2001:db8::1]:8888`) and the
 * keys of a tcp serve's `clients` map (`192.0.2.10`, `198.51.100.0/24`). Pure: nothing here
 * resolves a name or opens a socket.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface HostPort {
  /** Without brackets; empty for `:PORT` (every address). */
  host: string;
  port: number;
}

const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;
const PORT = /^[0-9]{1,5}$/;

function portProblem(text: string): string | undefined {
  if (!PORT.test(text)) return `the port ${JSON.stringify(text)} is not a number`;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? undefined : `the port ${port} is not between 1 and 65535`;
}

function hostProblem(host: string): string | undefined {
  if (host.startsWith('[')) {
    if (!host.endsWith(']') || !isIPv6(host.slice(1, -1)) || host.includes('%')) return `${JSON.stringify(host)} is not an IPv6 address in brackets`;
    return undefined;
  }
  if (host.includes(':')) return 'an IPv6 address is written in brackets: [2001:db8::1]:8888';
  if (!HOST_NAME.test(host)) return `${JSON.stringify(host)} is not a host name or address`;
  return undefined;
}

/** Why `text` is not `HOST:PORT` (or `:PORT` when `hostOptional`), or undefined. */
export function hostPortProblem(text: string, hostOptional: boolean): string | undefined {
  const colon = text.lastIndexOf(':');
  const form = hostOptional ? 'HOST:PORT or :PORT' : 'HOST:PORT';
  if (colon < 0) return `expected ${form}, got ${JSON.stringify(text)} (no port)`;
  const host = text.slice(0, colon);
  const problem = (host === '' ? (hostOptional ? undefined : 'the host is missing') : hostProblem(host)) ?? portProblem(text.slice(colon + 1));
  return problem === undefined ? undefined : `expected ${form}, got ${JSON.stringify(text)}: ${problem}`;
}

/** `:9811` → every address (host ''); `[::1]:9811` → `::1`. Call after hostPortProblem accepted it. */
export function parseHostPort(text: string): HostPort {
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(text.slice(colon + 1)) };
}

/** True for the hosts that listen on every address (`:PORT`, `0.0.0.0`, `::`). */
export function isWildcardHost(host: string): boolean {
  return host === '' || host === '0.0.0.0' || (isIPv6(host) && ipv6Groups(host).every((group) => group === 0));
}

export interface ClientNetwork {
  /** The network address: host bits cleared, IPv6 in its canonical (RFC 5952) form. */
  address: string;
  prefixLength: number;
  family: 4 | 6;
}

/** The eight 16-bit groups of an IPv6 address (isIPv6 accepted it; no zone). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const embedded = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (embedded?.[1] !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = embedded[1].split('.').map(Number);
    text = `${text.slice(0, -embedded[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const front = parse(head);
  if (tail === undefined) return front;
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

function maskGroups(groups: number[], width: number, prefixLength: number): number[] {
  return groups.map((group, index) => {
    const keep = Math.max(0, Math.min(width, prefixLength - index * width));
    const mask = keep === 0 ? 0 : ((0xffff_ffff << (width - keep)) >>> 0) & ((1 << width) - 1);
    return group & mask;
  });
}

const PREFIX = /^(0|[1-9][0-9]{0,2})$/;

/**
 * `192.0.2.10` (a /32), `198.51.100.0/24`, `2001:db8::/32`. Host bits set below the prefix are
 * accepted and cleared, as zrepl (Go's net.ParseCIDR) does: `198.51.100.7/24` is 198.51.100.0/24.
 */
export function parseClientNetwork(text: string): ClientNetwork | { problem: string } {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
  const family = isIPv4(address) ? 4 : isIPv6(address) && !address.includes('%') ? 6 : undefined;
  if (family === undefined)
    return { problem: `${JSON.stringify(address)} is not an IPv4 or IPv6 address (a client is an address or a range like 198.51.100.0/24)` };
  const bits = family === 4 ? 32 : 128;
  let prefixLength = bits;
  if (prefixText !== undefined) {
    if (!PREFIX.test(prefixText) || Number(prefixText) > bits)
      return { problem: `the prefix length ${JSON.stringify(prefixText)} is not a number from 0 to ${bits}` };
    prefixLength = Number(prefixText);
  }
  if (family === 4) {
    const octets = maskGroups(address.split('.').map(Number), 8, prefixLength);
    return { address: octets.join('.'), prefixLength, family };
  }
  const groups = maskGroups(ipv6Groups(address), 16, prefixLength);
  // The WHATWG URL parser writes IPv6 addresses in their canonical form.
  const canonical = new URL(`http://[${groups.map((group) => group.toString(16)).join(':')}]/`).hostname.slice(1, -1);
  return { address: canonical, prefixLength, family };
}

/** The longest address a `*` in a range's identity can be replaced by. */
export function longestAddress(family: 4 | 6): string {
  return family === 4 ? '255.255.255.255' : 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
}
