/**
 * Where one side of a job lives: a local dataset `pool/fs`, or a remote one written
 * `[user@]host:pool/fs` (scp style) or `ssh://[user@]host[:port]/pool/fs`.
 */
import type { EndpointSpec, SshEndpointSpec } from '../replication/endpoint/spec.js';
import { UsageError } from './errors.js';

export type Location = { kind: 'local'; dataset: string } | { kind: 'ssh'; host: string; user?: string; port?: number; dataset: string };

export function parseLocation(text: string): Location {
  if (text.startsWith('-')) throw new UsageError(`${JSON.stringify(text)} is not a dataset or remote location`);
  if (text.startsWith('ssh://')) {
    const match = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/(.+)$/.exec(text);
    if (!match?.[2] || !match[4]) throw new UsageError(`cannot parse ${text}: expected ssh://[user@]host[:port]/pool/fs`);
    return withRemote(match[2].replace(/^\[|\]$/g, ''), match[1], match[3], match[4], text);
  }
  // `host:pool/fs`: a colon before the first slash. Dataset names may contain colons further on.
  const colon = text.indexOf(':');
  const slash = text.indexOf('/');
  if (colon >= 0 && (slash === -1 || colon < slash)) {
    const hostPart = text.slice(0, colon);
    const dataset = text.slice(colon + 1);
    const at = hostPart.lastIndexOf('@');
    const user = at >= 0 ? hostPart.slice(0, at) : undefined;
    const host = at >= 0 ? hostPart.slice(at + 1) : hostPart;
    return withRemote(host, user, undefined, dataset, text);
  }
  return { kind: 'local', dataset: text };
}

function withRemote(host: string, user: string | undefined, port: string | undefined, dataset: string, text: string): Location {
  if (host.length === 0 || dataset.length === 0) throw new UsageError(`cannot parse ${text}: host and dataset must not be empty`);
  const location: Location = { kind: 'ssh', host, dataset };
  if (user !== undefined) {
    if (user.length === 0) throw new UsageError(`cannot parse ${text}: empty user`);
    location.user = user;
  }
  if (port !== undefined) {
    const number = Number(port);
    if (!Number.isInteger(number) || number < 1 || number > 65535) throw new UsageError(`invalid port in ${text}`);
    location.port = number;
  }
  return location;
}

/** How a push or pull reaches its remote side (`--ssh-key`, `--ssh-option`, `--remote-cmd`). */
export type SshSettings = Pick<SshEndpointSpec, 'identityFile' | 'options' | 'remoteCommand'>;

/** What the replication machinery opens for a location: a local dataset, or one over ssh with these settings. */
export function endpointSpecOf(location: Location, ssh: SshSettings): EndpointSpec {
  if (location.kind === 'local') return { kind: 'local', dataset: location.dataset };
  return {
    kind: 'ssh',
    host: location.host,
    ...(location.user !== undefined ? { user: location.user } : {}),
    ...(location.port !== undefined ? { port: location.port } : {}),
    ...(ssh.identityFile !== undefined ? { identityFile: ssh.identityFile } : {}),
    options: ssh.options,
    remoteCommand: ssh.remoteCommand,
    dataset: location.dataset,
  };
}

export function formatLocation(location: Location): string {
  if (location.kind === 'local') return location.dataset;
  const user = location.user ? `${location.user}@` : '';
  const port = location.port ? `:${location.port}` : '';
  return `ssh://${user}${location.host}${port}/${location.dataset}`;
}
