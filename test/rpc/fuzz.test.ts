/**
 * Fuzzing, in-process and seeded: 140,000 generated inputs per run, in a few seconds — 100,000
 * byte sequences for the frame decoder and 40,000 for whole serving connections (episodes of
 * client sessions; a connection costs far more than the decoder). ZFERRY_FUZZ_SCALE=n runs n
 * times as many, for a longer hunt. No input may crash, hang or leak, memory held for
 * unfinished messages stays within its budgets, and every refusal is clean: the decoder throws
 * only RpcProtocolError; a connection ends cleanly, as lost when its input ends, or with an
 * RpcProtocolError it reported to the peer in a GOAWAY — never through an unexpected exception.
 *
 * Each run uses a fresh seed, so that runs explore new inputs. The seed is in the suite's name
 * and in every failure, with the bytes of the failing input; replay a run with
 *   ZFERRY_FUZZ_SEED=<seed> node --import tsx --test test/rpc/fuzz.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextLoop } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { RpcConnectionLostError, RpcProtocolError, RpcServer } from '../../rpc/index.js';
import { FrameDecoder } from '../../rpc/frame-decoder.js';
import type { FrameHandler } from '../../rpc/frame-decoder.js';
import { FrameType, PROTOCOL_VERSION, encodeFrame } from '../../rpc/frame.js';
import { encodeJson } from '../../rpc/wire.js';
import { ConversationFuzzer, FUZZ_SERVER_LIMITS, FrameFuzzer, FuzzTransport, Random, fuzzSeed, randomChunks } from '../helpers/rpc-fuzz.js';
import { emptyObservations, testContract, testImplementation } from '../helpers/rpc-test-contract.js';
import { waitFor } from '../helpers/rpc-util.js';
import { splitFrames } from '../helpers/rpc-wire.js';

const seed = fuzzSeed();
const scale = Number(process.env['ZFERRY_FUZZ_SCALE'] ?? 1);
if (!(scale > 0)) throw new RangeError(`ZFERRY_FUZZ_SCALE must be a positive number, got ${process.env['ZFERRY_FUZZ_SCALE']}`);
const DECODER_INPUTS = Math.round(100_000 * scale);
const CONNECTION_INPUTS = Math.round(40_000 * scale);
const DECODER_LIMITS = { maxFramePayload: 64 * 1024, maxHeaderBytes: 8 * 1024 };

/** A full garbage collection, without --expose-gc on the command line. */
const collectGarbage = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/**
 * The JS heap in use after full collections: a connection, stream or call left behind shows
 * here. (Memory outside the heap is no good for this: ArrayBuffers are released by a background
 * sweeper, and process.memoryUsage() counts some tens of MiB of them for a while now and then.)
 */
function heapInUse(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

describe(`fuzzing (seed ${seed}; replay with ZFERRY_FUZZ_SEED=${seed})`, () => {
  test(`the frame decoder: ${DECODER_INPUTS} random and mutated sequences only ever raise RpcProtocolError, within the limits`, () => {
    const random = new Random(seed);
    const fuzzer = new FrameFuzzer(random);
    let refused = 0;
    let framesSeen = 0;
    let largest = 0;
    const handler: FrameHandler = {
      onFrame(_type, _flags, _streamId, payload) {
        framesSeen += 1;
        largest = Math.max(largest, payload.length);
      },
      onDataStart(_streamId, _flags, length) {
        framesSeen += 1;
        largest = Math.max(largest, length);
      },
      onDataChunk() {},
      onDataEnd() {},
    };
    const sequences = DECODER_INPUTS;
    for (let i = 0; i < sequences; i++) {
      const bytes = fuzzer.sequence(random.chance(0.5) ? 'initiator' : 'acceptor');
      const decoder = new FrameDecoder(handler, DECODER_LIMITS);
      try {
        for (const chunk of randomChunks(random, bytes)) decoder.push(chunk);
      } catch (error) {
        if (!(error instanceof RpcProtocolError)) assert.fail(`seed ${seed}, sequence ${i}: raised ${String(error)}; bytes ${bytes.toString('hex')}`);
        refused += 1;
      }
      assert.ok(largest <= DECODER_LIMITS.maxFramePayload, `seed ${seed}, sequence ${i}: a ${largest}-byte payload got through`);
    }
    // Both outcomes must be common, or the generator is not exercising the decoder.
    assert.ok(refused > sequences / 10 && refused < sequences * 0.9, `${refused} of ${sequences} refused`);
    assert.ok(framesSeen > sequences, `${framesSeen} frames decoded`);
  });

  test(`serving connections: ${CONNECTION_INPUTS} inputs end cleanly or in a reported protocol error, within the memory budgets`, async (t) => {
    const conversations = new ConversationFuzzer(new Random(seed ^ 0x5a5a_5a5a));
    const serverBudget = 512 * 1024;
    const observed = emptyObservations();
    const server = new RpcServer({ limits: FUZZ_SERVER_LIMITS, maxBufferedMessageBytes: serverBudget });
    server.register(testContract, testImplementation(observed));
    const total = CONNECTION_INPUTS;
    const sessionsPerBatch = 400;
    const goodbye = encodeFrame(PROTOCOL_VERSION, FrameType.GOAWAY, 0, 0, encodeJson({ lastStreamId: 0, code: 'RPC_GOAWAY', message: 'done' }));
    const ends = new Map<string, number>();
    let inputs = 0;
    let sessions = 0;
    let refusals = 0;
    let maxServerBuffered = 0;

    /**
     * A batch of connections, each fed a client session episode by episode (one input each),
     * with a turn of the event loop between episodes so that handlers answer and streams
     * finish. A session ends after its episodes or when its connection closes: the peer then
     * ends its side (sometimes after a GOAWAY), and the connection must close at once.
     */
    const runBatch = async (): Promise<void> => {
      const batch = Array.from({ length: sessionsPerBatch }, () => {
        const index = sessions++;
        // Each session draws from its own generator, so that it replays alone from the seed.
        const session = conversations.session(new Random(Math.imul(seed, 0x9e37_79b1) ^ Math.imul(index + 1, 0x85eb_ca6b)));
        const transport = new FuzzTransport();
        return { index, session, transport, connection: server.serve(transport), left: 1 + session.random.below(30), sent: [] as Buffer[] };
      });
      let live = batch;
      while (live.length > 0) {
        for (const feed of live) {
          const bytes = feed.session.episode();
          feed.sent.push(bytes);
          inputs += 1;
          for (const chunk of randomChunks(feed.session.random, bytes)) feed.transport.deliver(chunk);
          maxServerBuffered = Math.max(maxServerBuffered, server.bufferedMessageBytes);
          feed.left -= 1;
          if (feed.left === 0 || feed.connection.isClosed) {
            if (feed.session.random.chance(0.3)) feed.transport.deliver(goodbye);
            feed.transport.end();
          }
        }
        live = live.filter((feed) => feed.left > 0 && !feed.connection.isClosed);
        await nextLoop();
      }
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), 10_000)));
      const outcome = await Promise.race([Promise.all(batch.map(({ connection }) => connection.closed)), hang]);
      clearTimeout(timer);
      for (const { index, sent, transport, connection } of batch) {
        const error = connection.closeError;
        const fail = (problem: string): never =>
          assert.fail(`${problem}: seed ${seed}, session ${index} (closed with ${String(error)}); bytes ${Buffer.concat(sent).toString('hex')}`);
        if (outcome === 'hang' && !connection.isClosed) fail('the connection hangs after its input ended');
        const ours = error instanceof RpcProtocolError && !error.message.startsWith('peer closed the connection');
        if (ours) {
          // Refused by us: the peer was told why, in a GOAWAY carrying the error.
          const goaway = splitFrames(Buffer.concat(transport.written)).findLast((f) => f.type === FrameType.GOAWAY);
          if (goaway === undefined) return fail('no GOAWAY sent');
          const reported = JSON.parse(goaway.payload.toString('utf8')) as { code: string; message: string };
          if (reported.code !== 'RPC_PROTOCOL' || reported.message !== error.message) fail(`the GOAWAY said ${JSON.stringify(reported)}`);
          refusals += 1;
        } else {
          // Clean, the peer's own GOAWAY with an error, or lost when the input ended: never an internal failure.
          const expected = error === undefined || error instanceof RpcProtocolError || error instanceof RpcConnectionLostError;
          if (!expected || /internal error/.test(error?.message ?? '')) fail('an unexpected end');
        }
        ends.set(error?.name ?? 'clean', (ends.get(error?.name ?? 'clean') ?? 0) + 1);
        if (connection.stats.bufferedMessageBytes !== 0) fail('unfinished messages still held after the close');
      }
      await waitFor(
        () => batch.every(({ connection }) => connection.activeCallCount === 0),
        `seed ${seed}: handlers of sessions ${batch[0]?.index} and on to return`,
      );
      assert.equal(server.bufferedMessageBytes, 0, `seed ${seed}: the server budget got its bytes back`);
      for (const list of [observed.waits, observed.uploadErrors, observed.downloads, observed.deadlines]) list.length = 0;
    };

    // Code and caches settle during the first batches; a leak shows as growth after them.
    for (let warmUp = 0; warmUp < 3; warmUp++) await runBatch();
    const heapAfterWarmUp = heapInUse();
    while (inputs < total) await runBatch();
    const grown = heapInUse() - heapAfterWarmUp;
    t.diagnostic(
      `${inputs} inputs in ${sessions} sessions; ends: ${JSON.stringify(Object.fromEntries(ends))}; ${refusals} protocol errors reported; ` +
        `the server held at most ${maxServerBuffered} bytes of unfinished messages; the heap ${(grown / 1024 / 1024).toFixed(1)} MiB above the first batches`,
    );
    assert.ok(maxServerBuffered <= serverBudget, `seed ${seed}: the server held ${maxServerBuffered} bytes`);
    // Some growth is caches and compiled code; a session left behind (a connection with its
    // streams and calls: several KiB) would show.
    assert.ok(grown < 8 * 1024 * 1024, `seed ${seed}: the heap grew by ${grown} bytes after the first batches`);
    // The generator must reach every kind of end, or it is not exercising the connection.
    for (const kind of ['clean', 'RpcProtocolError', 'RpcConnectionLostError']) {
      assert.ok((ends.get(kind) ?? 0) > sessions / 20, `seed ${seed}: ${JSON.stringify(Object.fromEntries(ends))}`);
    }
    assert.ok(maxServerBuffered > serverBudget / 2, `seed ${seed}: fragmented messages held at most ${maxServerBuffered} bytes`);
    await server.close();
  });
});
