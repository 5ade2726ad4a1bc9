/**
 * A client over a connection still being made: once connected it behaves as the connected
 * client does (the whole client contract suite), calls made before wait for the connection,
 * and a connection that fails fails every call with its own error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deferredClient } from '../../rpc/index.js';
import type { ConnectedClient } from '../../rpc/index.js';
import { contractSuite } from '../helpers/rpc-contract-suite.js';
import { startNetwork } from '../helpers/rpc-network.js';
import { testContract, type TestContract } from '../helpers/rpc-test-contract.js';

contractSuite('deferred client over memory', async () => {
  const setup = await startNetwork('memory');
  return {
    client: deferredClient(testContract, Promise.resolve(setup.client)),
    observed: setup.observed,
    kind: 'network',
    activeCalls: setup.activeCalls,
    close: setup.close,
  };
});

test('calls made before the connection wait for it', async () => {
  let connected!: (client: ConnectedClient<TestContract>) => void;
  const client = deferredClient(testContract, new Promise<ConnectedClient<TestContract>>((resolve) => (connected = resolve)));
  const answers = Promise.all([client.add({ a: 1, b: 2 }), client.echo({ text: 'early' })]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const setup = await startNetwork('memory');
  try {
    connected(setup.client);
    const [sum, echo] = await answers;
    assert.deepEqual(sum, { sum: 3 });
    assert.equal(echo.text, 'early');
  } finally {
    await setup.close();
  }
});

test('a connection that fails fails every call with its own error', async () => {
  const failure = Object.assign(new Error('ssh could not connect'), { code: 'SSH_CONNECT' });
  const connecting = Promise.reject(failure);
  connecting.catch(() => undefined);
  const client = deferredClient<TestContract>(testContract, connecting);
  await assert.rejects(client.add({ a: 1, b: 2 }), (error) => error === failure);
  await assert.rejects(client.echo({ text: 'x' }), (error) => error === failure);
});
