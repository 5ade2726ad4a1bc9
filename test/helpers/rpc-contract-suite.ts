/**
 * The behaviour every client of a contract must show, whether it talks to a remote server or
 * calls the implementation in-process (LocalRPC): results, validation on both sides, error
 * classes, cancellation and deadlines reaching the handler, byte streams both ways with their
 * failure modes, and nothing left running afterwards.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners, once } from 'node:events';
import { Readable } from 'node:stream';
import { RpcCancelledError, RpcDeadlineError, RpcInvalidRequestError, RpcInvalidResponseError, RpcRemoteError, RpcStreamSourceError } from '../../rpc/index.js';
import type { Client } from '../../rpc/index.js';
import { patternDigest, patternStream } from './rpc-test-contract.js';
import type { TestContract, TestObservations } from './rpc-test-contract.js';
import { digestStream, streamError, waitFor } from './rpc-util.js';

export interface ContractSuiteTarget {
  client: Client<TestContract>;
  /** What the serving side's handlers saw. */
  observed: TestObservations;
  /** Calls still in progress on either side (0 when nothing leaked). */
  activeCalls(): number;
  close(): Promise<void>;
  /**
   * 'network': a failed byte-stream source reaches the other side as RpcStreamSourceError;
   * 'local': the same stream object is handed through, so its own error arrives.
   */
  kind: 'network' | 'local';
}

const MiB = 1024 * 1024;

export function contractSuite(name: string, makeTarget: () => Promise<ContractSuiteTarget>): void {
  describe(name, () => {
    let target: ContractSuiteTarget;
    let client: Client<TestContract>;
    before(async () => {
      target = await makeTarget();
      client = target.client;
    });
    after(async () => target.close());
    afterEach(async () => waitFor(() => target.activeCalls() === 0, 'no call left in progress'));

    test('a call returns what the handler made of the request, with metadata and peer', async () => {
      const answer = await client.echo({ text: 'hello', n: 3 }, { metadata: { trace: 'abc' } });
      assert.equal(answer.text, 'hello');
      assert.equal(answer.n, 3);
      assert.deepEqual(answer.metadata, { trace: 'abc' });
      assert.ok(answer.peer.length > 0);
      assert.deepEqual(await client.add({ a: 2, b: 40 }), { sum: 42 });
    });

    test('timeoutMs reaches the handler as ctx.deadline', async () => {
      const before = Date.now();
      await client.echo({ text: 'x' }, { timeoutMs: 60_000 });
      await client.echo({ text: 'y' });
      const [withDeadline, without] = target.observed.deadlines.slice(-2);
      assert.equal(typeof withDeadline, 'number');
      assert.ok((withDeadline as number) >= before && (withDeadline as number) <= Date.now() + 60_000);
      assert.equal(without, undefined);
      // A budget beyond what a timer can hold must not turn into an immediate deadline.
      assert.deepEqual(await client.add({ a: 1, b: 1 }, { timeoutMs: 2 ** 40 }), { sum: 2 });
    });

    test('a handler error arrives as RpcRemoteError with its code, message and details', async () => {
      await assert.rejects(client.fail({ code: 'EBUSY', message: 'dataset is busy' }), (error: unknown) => {
        assert.ok(error instanceof RpcRemoteError);
        assert.equal(error.code, 'RPC_REMOTE');
        assert.equal(error.remoteCode, 'EBUSY');
        assert.equal(error.message, 'dataset is busy');
        assert.deepEqual(error.details, { hint: 'from the handler' });
        return true;
      });
    });

    test('an invalid request is refused before the handler runs, naming the field', async () => {
      const sums = await client.add({ a: 1, b: 1 });
      await assert.rejects(client.add({ a: 'one', b: 1 } as unknown as { a: number; b: number }), (error: unknown) => {
        assert.ok(error instanceof RpcInvalidRequestError);
        assert.match(error.message, /request\.a/);
        return true;
      });
      assert.deepEqual(await client.add({ a: 1, b: 1 }), sums, 'still usable afterwards');
    });

    test('an invalid response is refused by the caller, naming the field', async () => {
      await assert.rejects(client.lie({}), (error: unknown) => {
        assert.ok(error instanceof RpcInvalidResponseError);
        assert.match(error.message, /response\.count/);
        return true;
      });
    });

    test('cancelling a call rejects with RpcCancelledError and aborts the handler', async () => {
      const controller = new AbortController();
      const started = once(target.observed.events, 'wait-started');
      const call = client.wait({ ms: 120_000 }, { signal: controller.signal });
      await started;
      controller.abort();
      await assert.rejects(call, RpcCancelledError);
      await waitFor(() => target.observed.waits.length > 0, 'the handler saw the cancellation');
      assert.equal(target.observed.waits.pop(), 'RpcCancelledError');
    });

    test('an already aborted signal fails the call without running the handler', async () => {
      const waitsBefore = target.observed.waits.length;
      await assert.rejects(client.wait({ ms: 120_000 }, { signal: AbortSignal.abort() }), RpcCancelledError);
      assert.equal(target.observed.waits.length, waitsBefore);
    });

    test('a deadline rejects with RpcDeadlineError and aborts the handler', async () => {
      const started = once(target.observed.events, 'wait-started');
      const call = client.wait({ ms: 120_000 }, { timeoutMs: 150 });
      await started;
      await assert.rejects(call, RpcDeadlineError);
      await waitFor(() => target.observed.waits.length > 0, 'the handler saw the deadline');
      assert.equal(target.observed.waits.pop(), 'RpcDeadlineError');
    });

    test('a request byte stream arrives intact', async () => {
      const size = 3 * MiB + 123;
      assert.deepEqual(await client.upload({ name: 'a' }, patternStream(size, { chunk: 100_000 })), patternDigest(size));
      assert.deepEqual(await client.upload({ name: 'empty' }, patternStream(0)), patternDigest(0));
    });

    test('a receiving handler that fails early stops the sender and destroys the request stream', async () => {
      const source = patternStream(1024 * MiB);
      let read = 0;
      source.on('data', (chunk: Buffer) => (read += chunk.length));
      await assert.rejects(client.upload({ name: 'big', failAfter: MiB }, source), (error: unknown) => {
        assert.ok(error instanceof RpcRemoteError);
        assert.equal(error.remoteCode, 'EDISKFULL');
        return true;
      });
      await waitFor(() => source.destroyed, 'the request stream is destroyed');
      assert.ok(read < 256 * MiB, `the sender stopped early (read ${read} bytes of 1 GiB)`);
    });

    test('a failing request stream source fails the call with RpcStreamSourceError', async () => {
      const source = patternStream(64 * MiB, { failAt: 2 * MiB });
      await assert.rejects(client.upload({ name: 'broken' }, source), (error: unknown) => {
        assert.ok(error instanceof RpcStreamSourceError, `got ${String(error)}`);
        assert.match(error.message, /source broke at byte/);
        return true;
      });
      await waitFor(() => target.observed.uploadErrors.length > 0, 'the handler saw the stream fail');
      const seen = target.observed.uploadErrors.pop() as Error;
      assert.match(seen.message, /source broke at byte/);
      if (target.kind === 'network') assert.ok(seen instanceof RpcStreamSourceError);
    });

    test('a response byte stream arrives intact', async () => {
      const size = 5 * MiB + 7;
      const { response, stream } = await client.download({ bytes: size, chunk: 50_000 });
      assert.deepEqual(response, { bytes: size });
      assert.deepEqual(await digestStream(stream), patternDigest(size));
      const empty = await client.download({ bytes: 0 });
      assert.deepEqual(await digestStream(empty.stream), patternDigest(0));
    });

    test('a failing response stream source errors the stream with its message', async () => {
      const { stream } = await client.download({ bytes: 32 * MiB, failAt: 3 * MiB });
      const error = await streamError(stream);
      assert.match(error.message, /source broke at byte/);
      if (target.kind === 'network') assert.ok(error instanceof RpcStreamSourceError, `got ${error.name}`);
    });

    test('cancelling while a response stream flows errors it and stops the producer', async () => {
      const controller = new AbortController();
      const downloadsBefore = target.observed.downloads.length;
      const { stream } = await client.download({ bytes: 4096 * MiB }, { signal: controller.signal });
      const errored = streamError(stream);
      await once(stream, 'data');
      controller.abort();
      assert.ok((await errored) instanceof RpcCancelledError);
      await waitFor(() => target.observed.downloads.length > downloadsBefore, 'the producer was stopped');
      assert.equal(target.observed.downloads.at(-1), 'destroyed');
    });

    test('a consumer that destroys a response stream early stops the producer', async () => {
      const downloadsBefore = target.observed.downloads.length;
      const { stream } = await client.download({ bytes: 4096 * MiB });
      await once(stream, 'data');
      stream.destroy();
      await waitFor(() => target.observed.downloads.length > downloadsBefore, 'the producer was stopped');
      assert.equal(target.observed.downloads.at(-1), 'destroyed');
    });

    test('a deadline covers the response stream too', async () => {
      const { stream } = await client.download({ bytes: 4096 * MiB }, { timeoutMs: 300 });
      stream.pause();
      const error = await new Promise<Error>((resolve) => stream.once('error', resolve));
      assert.ok(error instanceof RpcDeadlineError, `got ${error.name}`);
    });

    test('a request stream of a call refused by validation is destroyed', async () => {
      const source = patternStream(64 * MiB);
      await assert.rejects(client.upload({ name: 5 } as unknown as { name: string }, source), RpcInvalidRequestError);
      await waitFor(() => source.destroyed, 'the request stream is destroyed');
    });

    test('a request-stream endpoint called without a Readable is refused', async () => {
      await assert.rejects(client.upload({ name: 'x' }, undefined as unknown as Readable), RpcInvalidRequestError);
    });

    test('no timers, signal listeners or stream listeners are left behind', async () => {
      const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
      await waitFor(() => target.activeCalls() === 0, 'a quiet start');
      const timersBefore = timers();
      const controller = new AbortController();
      const options = { signal: controller.signal, timeoutMs: 60_000 };
      await client.add({ a: 1, b: 2 }, options);
      await assert.rejects(client.fail({ code: 'E', message: 'm' }, options), RpcRemoteError);
      await assert.rejects(client.lie({}, options), RpcInvalidResponseError);
      await assert.rejects(client.add({ a: 'x' } as unknown as { a: number; b: number }, options), RpcInvalidRequestError);
      const source = patternStream(MiB);
      await client.upload({ name: 'tidy' }, source, options);
      const { stream } = await client.download({ bytes: MiB }, options);
      await digestStream(stream);
      await waitFor(() => target.activeCalls() === 0, 'every call finished');
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'abort listeners removed');
      // Over the network the RPC layer reads the request stream and must let go of it; locally
      // the handler reads it itself (and node's async iterator leaves its own listener).
      if (target.kind === 'network') {
        const left = ['data', 'end', 'error', 'close'].reduce((sum, event) => sum + source.listenerCount(event), 0);
        assert.equal(left, 0, 'request stream listeners removed');
      }
      await waitFor(() => timers() <= timersBefore, 'deadline timers cleared');
    });

    test('many concurrent calls all get their own answers', async () => {
      const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => client.add({ a: i, b: i })));
      answers.forEach((answer, i) => assert.equal(answer.sum, 2 * i));
    });
  });
}
