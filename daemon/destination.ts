/** The receiving side of a push or pull named as a destination: what its cursor tags derive from. */
import { localIdentity, resolveSshIdentity, socketIdentity, type DestinationIdentity } from '../replication/endpoint/identity.js';
import type { EndpointSpec } from '../replication/endpoint/spec.js';
import { JobDefinitionError } from './errors.js';

/** The receiving side named as a destination for `target` (what the cursor tags derive from). */
export async function destinationOf(spec: EndpointSpec, target: string, hostname: string): Promise<DestinationIdentity> {
  switch (spec.kind) {
    case 'local':
      return localIdentity(hostname, target);
    case 'ssh':
      return resolveSshIdentity({ ...spec, dataset: target });
    case 'tcp':
    case 'tls':
      return socketIdentity(spec.kind, spec.host, spec.port, target);
    default:
      throw new JobDefinitionError('?', `endpoint kind ${spec.kind} cannot be a replication side`);
  }
}
