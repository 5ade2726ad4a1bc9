import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { z } from 'zod';
import { RpcConnectionLostError, RpcRemoteError, defineContract, endpoint, localClient } from '../../rpc/index.js';
import { contractSuite } from '../helpers/rpc-contract-suite.js';
import { emptyObservations, testContract, testImplementation } from '../helpers/rpc-test-contract.js';

contractSuite('LocalRPC client', async () => {
  const observed = emptyObservations();
  const client = localClient(testContract, testImplementation(observed), { peer: { transport: 'local', name: 'in-process' } });
  return { client, observed, kind: 'local', activeCalls: () => client.activeCallCount, close: () => client.close() };
});

describe('LocalRPC specifics', () => {
  const streams = defineContract('zferry.test.local', {
    take: endpoint({ stream: 'request', request: z.object({}), response: z.object({ same: z.boolean() }) }),
    give: endpoint({ stream: 'response', request: z.object({}), response: z.object({}) }),
  });

  test('byte streams are handed through as the very same object, both ways', async () => {
    const given = new PassThrough();
    let received: Readable | undefined;
    const client = localClient(streams, {
      async take(_req, stream) {
        received = stream;
        stream.resume();
        return { same: true };
      },
      async give() {
        return { response: {}, stream: given };
      },
    });
    const source = Readable.from([Buffer.from('x')]);
    await client.take({}, source);
    assert.equal(received, source);
    const { stream } = await client.give({});
    assert.equal(stream, given);
    given.end();
    stream.resume();
    await client.close();
  });

  test('a handler throw becomes RpcRemoteError whose cause is the original error', async () => {
    const original = Object.assign(new Error('nope'), { code: 'ENOPE' });
    const client = localClient(streams, {
      async take() {
        throw original;
      },
      async give() {
        throw original;
      },
    });
    await assert.rejects(client.give({}), (error: unknown) => {
      assert.ok(error instanceof RpcRemoteError);
      assert.equal(error.remoteCode, 'ENOPE');
      assert.equal(error.cause, original);
      return true;
    });
    await client.close();
  });

  test('after close() calls are refused', async () => {
    const client = localClient(testContract, testImplementation());
    await client.close();
    await assert.rejects(client.add({ a: 1, b: 2 }), RpcConnectionLostError);
  });
});
