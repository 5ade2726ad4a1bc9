/** The shared client contract suite over real network transports (connect + RpcServer). */
import { contractSuite } from '../helpers/rpc-contract-suite.js';
import { startNetwork } from '../helpers/rpc-network.js';
import type { TransportKind } from '../helpers/rpc-network.js';

for (const kind of ['tcp', 'unix'] satisfies TransportKind[]) {
  contractSuite(`network client over ${kind}`, async () => {
    const setup = await startNetwork(kind);
    return { client: setup.client, observed: setup.observed, kind: 'network', activeCalls: setup.activeCalls, close: setup.close };
  });
}
