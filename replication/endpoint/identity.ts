/**
 * The name of a replication destination, from which a job's cursor tag is derived (cursor.ts):
 * one string per destination, however its location was spelt.
 *
 *   ssh://<user>@<host>:<port>/<dataset>   the user and port ssh really uses (given, else what
 *                                          `ssh -G` reports after ~/.ssh/config), the host as
 *                                          given, lowercased, an IPv6 address in brackets
 *   local://<hostname>/<dataset>           a dataset on the host that runs the job
 *   tcp://<host>:<port>/<dataset>          a dataset served by another daemon's sink or source
 *   tls://<host>:<port>/<dataset>          over tcp or mutual TLS: the address as given (lowercased,
 *                                          an IPv6 address in brackets), the dataset as the
 *                                          server names it (below `root_fs/<identity>` on a sink)
 *
 * The host stays the name the user gave (an alias, a DNS name), not the address it resolves
 * to: an address may change while the machine, and its holds, stay the same.
 *
 * Earlier versions used the spelling itself (`ssh://[user@]host[:port]/dataset`, user and
 * port only where spelt out) and `<hostname>:<dataset>`: `legacy` lists every name they could
 * have given the same destination, so that a cursor recorded under one is found and taken over.
 */
import type { SshEndpointSpec } from './spec.js';

export interface DestinationIdentity {
  canonical: string;
  /** What earlier versions could have called the same destination (the canonical name left out). */
  legacy: readonly string[];
}

export function localIdentity(hostname: string, dataset: string): DestinationIdentity {
  return withLegacy(`local://${hostname.toLowerCase()}/${dataset}`, [`${hostname}:${dataset}`]);
}

/** A side served over tcp or tls: one name per address and dataset (no earlier spellings). */
export function socketIdentity(kind: 'tcp' | 'tls', host: string, port: number, dataset: string): DestinationIdentity {
  const lowered = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return withLegacy(`${kind}://${lowered.includes(':') ? `[${lowered}]` : lowered}:${port}/${dataset}`, []);
}

/** The user and port of an ssh connection. */
export interface SshAccount {
  user: string;
  port: number;
}

/**
 * `account`: what the connection uses; `unspecified`: what ssh would use with no user and no
 * port given (ssh_config and `-o` options still apply), which decides whether a spelling that
 * left them out named the same account.
 */
export function sshIdentity(
  destination: Pick<SshEndpointSpec, 'host' | 'user' | 'port' | 'dataset'>,
  account: SshAccount,
  unspecified: SshAccount,
): DestinationIdentity {
  const host = destination.host.replace(/^\[(.*)\]$/, '$1');
  const lowered = host.toLowerCase();
  const canonical = `ssh://${account.user}@${lowered.includes(':') ? `[${lowered}]` : lowered}:${account.port}/${destination.dataset}`;
  // An earlier spelling wrote the user and the port out, or left them to ssh, which then
  // reached this account only where it would have chosen them anyway.
  const users = new Set<string | undefined>([account.user, destination.user ?? account.user]);
  if (unspecified.user === account.user) users.add(undefined);
  const ports = new Set<number | undefined>([account.port, destination.port ?? account.port]);
  if (unspecified.port === account.port) ports.add(undefined);
  const legacy = [...new Set([host, lowered])].flatMap((spelt) =>
    [...users].flatMap((user) => [...ports].map((port) => formerSshName(spelt, user, port, destination.dataset))),
  );
  return withLegacy(canonical, legacy);
}

/** How earlier versions wrote an ssh location: user and port only where given, an IPv6 address bare. */
function formerSshName(host: string, user: string | undefined, port: number | undefined, dataset: string): string {
  return `ssh://${user !== undefined ? `${user}@` : ''}${host}${port !== undefined ? `:${port}` : ''}/${dataset}`;
}

function withLegacy(canonical: string, legacy: readonly string[]): DestinationIdentity {
  return { canonical, legacy: [...new Set(legacy)].filter((name) => name !== canonical) };
}

/**
 * Asks ssh which user and port the connection of `spec` uses, and (where the spec gives a user
 * or port) which it would use without them: two `ssh -G`, at once. Reads files only, never
 * connects, so it runs beside the connection without delaying it.
 */
export async function resolveSshIdentity(spec: SshEndpointSpec, options: { sshBin?: string; signal?: AbortSignal } = {}): Promise<DestinationIdentity> {
  // Loaded only for an ssh side: execa stays off the local path.
  const { sshEffectiveConfig } = await import('../../transport/ssh-config.js');
  const client = {
    host: spec.host,
    options: spec.options,
    ...(spec.identityFile !== undefined ? { identityFile: spec.identityFile } : {}),
    ...(spec.configFile !== undefined ? { configFile: spec.configFile } : {}),
    ...(options.sshBin !== undefined ? { sshBin: options.sshBin } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  };
  const given = spec.user !== undefined || spec.port !== undefined;
  const [account, unspecified] = await Promise.all([
    sshEffectiveConfig({ ...client, ...(spec.user !== undefined ? { user: spec.user } : {}), ...(spec.port !== undefined ? { port: spec.port } : {}) }),
    given ? sshEffectiveConfig(client) : undefined,
  ]);
  return sshIdentity(spec, account, unspecified ?? account);
}
