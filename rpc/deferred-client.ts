/**
 * A client whose connection is still being made: every call first waits for it, then goes out
 * exactly as on the connected client. A connection that fails fails every call with its error.
 * Lets a caller start work that needs the peer only later (local listings, say) at once.
 */
import { buildClient } from './client-proxy.js';
import type { ConnectedClient } from './client.js';
import { wireEndpointName, type Client, type Contract } from './contract.js';

export function deferredClient<C extends Contract>(contract: C, connecting: Promise<ConnectedClient<C>>): Client<C> {
  return buildClient(contract, async (name, def, request, stream, options) => {
    const { connection } = await connecting;
    return connection.call(wireEndpointName(contract, name), def, request, stream, options);
  });
}
