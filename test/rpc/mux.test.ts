/**
 * The multiplexer under hostile input: random and mutated frame sequences fed to real
 * connections on both roles never crash, never leave calls or handlers behind, and end either
 * in a usable connection or in a protocol/connection error.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextLoop } from 'node:timers/promises';
import { RpcConnectionLostError, RpcError, RpcProtocolError, RpcServer, connect } from '../../rpc/index.js';
import { FrameType, PROTOCOL_VERSION, encodeFrame } from '../../rpc/frame.js';
import { FrameFuzzer, Random, randomChunks } from '../helpers/rpc-fuzz.js';
import { memoryPair } from '../helpers/rpc-pair.js';
import { helloPayload } from '../helpers/rpc-raw-peer.js';
import { emptyObservations, patternStream, testContract, testImplementation } from '../helpers/rpc-test-contract.js';
import { waitFor } from '../helpers/rpc-util.js';

function acceptableEnd(error: RpcError | undefined): boolean {
  return error === undefined || error instanceof RpcProtocolError || error instanceof RpcConnectionLostError;
}

describe('connections fed random and mutated frames', () => {
  test('a serving connection: 3,000 sequences', async () => {
    const seed = 0x5eed_0002;
    const fuzzer = new FrameFuzzer(new Random(seed));
    const random = fuzzer.random;
    const server = new RpcServer({ limits: { keepaliveIntervalMs: 60_000, keepaliveTimeoutMs: 120_000 } });
    server.register(testContract, testImplementation(emptyObservations()));
    const ends = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const pair = memoryPair();
      const connection = server.serve(pair.server);
      const bytes = fuzzer.sequence('initiator');
      for (const chunk of randomChunks(random, bytes)) pair.client.stream.write(chunk);
      pair.client.stream.resume(); // take whatever the server answers
      await nextLoop();
      await nextLoop();
      pair.client.close();
      await connection.closed;
      const error = connection.closeError;
      assert.ok(acceptableEnd(error), `sequence ${i} (seed ${seed}) ended with ${String(error)}; bytes ${bytes.toString('hex')}`);
      const kind = error?.name ?? 'clean';
      ends.set(kind, (ends.get(kind) ?? 0) + 1);
    }
    await waitFor(() => [...server.connections].every((c) => c.activeCallCount === 0) && server.connectionCount === 0, 'every handler returned');
    assert.ok((ends.get('RpcProtocolError') ?? 0) > 100, `protocol errors: ${JSON.stringify([...ends])}`);
    assert.ok((ends.get('RpcConnectionLostError') ?? 0) > 100, `survived until the transport closed: ${JSON.stringify([...ends])}`);
    await server.close();
  });

  test('a calling connection with calls in flight: 1,000 sequences', async () => {
    const seed = 0x5eed_0003;
    const fuzzer = new FrameFuzzer(new Random(seed));
    const random = fuzzer.random;
    const hello = encodeFrame(PROTOCOL_VERSION, FrameType.HELLO, 0, 0, helloPayload({ role: 'acceptor' }));
    let settledWithRpcError = 0;
    for (let i = 0; i < 1000; i++) {
      const pair = memoryPair();
      pair.server.stream.write(hello);
      pair.server.stream.resume();
      const client = await connect(pair.client, testContract, { limits: { keepaliveIntervalMs: 60_000, keepaliveTimeoutMs: 120_000 } });
      const calls = [
        client.add({ a: 1, b: 2 }),
        client.upload({ name: 'x' }, patternStream(256 * 1024)),
        client.download({ bytes: 10 }).then(({ stream }) => {
          stream.on('error', () => {});
          stream.resume();
        }),
        client.wait({ ms: 1 }),
      ];
      const outcomes = Promise.allSettled(calls);
      // The raw peer answers with a fuzzed sequence (without a second HELLO).
      const bytes = fuzzer.sequence('acceptor');
      const body = bytes.subarray(0, hello.length).equals(hello) ? bytes.subarray(hello.length) : bytes;
      for (const chunk of randomChunks(random, body)) pair.server.stream.write(chunk);
      await nextLoop();
      await nextLoop();
      pair.server.close();
      for (const outcome of await outcomes) {
        if (outcome.status === 'rejected') {
          assert.ok(outcome.reason instanceof RpcError, `sequence ${i} (seed ${seed}): a call failed with ${String(outcome.reason)}`);
          settledWithRpcError += 1;
        }
      }
      await client.connection.closed;
      assert.ok(acceptableEnd(client.connection.closeError), `sequence ${i}: ${String(client.connection.closeError)}`);
      assert.equal(client.connection.activeCallCount, 0, `sequence ${i}: calls left behind`);
    }
    assert.ok(settledWithRpcError > 1000, `calls failed with RpcErrors ${settledWithRpcError} times`);
  });
});
