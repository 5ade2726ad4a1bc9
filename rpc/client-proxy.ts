/** Builds the typed client object of a contract over any way of making a call. */
import type { Readable } from 'node:stream';
import { RESERVED_ENDPOINT_NAMES } from './contract.js';
import type { AnyEndpointDef, CallOptions, Client, Contract } from './contract.js';

export type Invoke = (
  endpointName: string,
  def: AnyEndpointDef,
  request: unknown,
  stream: Readable | undefined,
  options: CallOptions | undefined,
) => Promise<unknown>;

export function buildClient<C extends Contract>(contract: C, invoke: Invoke): Client<C> {
  const client: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(contract.endpoints)) {
    if (RESERVED_ENDPOINT_NAMES.has(name)) throw new TypeError(`endpoint name ${name} of ${contract.name} is reserved by the client object`);
    client[name] =
      def.stream === 'request'
        ? (request: unknown, stream: Readable, options?: CallOptions) => invoke(name, def, request, stream, options)
        : (request: unknown, options?: CallOptions) => invoke(name, def, request, undefined, options);
  }
  return client as Client<C>;
}
