// A serving job's limit around its endpoint (called through LocalRPC): a source's send answers
// and a sink's receive requests pass at no more than the bucket's rate, shared by every call on
// it; the other calls are the implementation's own. Lower bounds on time only.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { endpointContract, type EndpointContract } from '../../../replication/contract.js';
import { throttleEndpoint } from '../../../replication/endpoint/throttled-endpoint.js';
import { createSharedBucket } from '../../../replication/throttle/throttled-stream.js';
import { localClient, type Implementation } from '../../../rpc/index.js';
import { unusedEndpoints } from '../../helpers/in-memory-job.js';

const MiB = 1024 * 1024;
const RATE = 4 * MiB;
const CAPACITY = 256 * 1024;
const floorMs = (bytes: number): number => ((bytes - CAPACITY) / RATE) * 1000 * 0.95;

const payload = (bytes: number): Readable => Readable.from(Array.from({ length: bytes / MiB }, () => randomBytes(MiB)));

async function count(stream: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  return bytes;
}

const send = { snapshot: 'tank/a@s1', intermediates: false };
const receive = { target: 'pool/a', snapshotName: 's1', expectedGuid: '1', force: false, resumable: false };

function implementation(sendBytes: number, received: number[]): Implementation<EndpointContract> {
  return {
    ...unusedEndpoints(),
    send: async () => ({ response: {}, stream: payload(sendBytes) }),
    async receive(_req, stream) {
      received.push(await count(stream));
      return {};
    },
  };
}

test("two clients' sends share the source's bucket", async () => {
  const impl = throttleEndpoint(implementation(2 * MiB, []), { send: createSharedBucket({ maxBytesPerSecond: RATE, bucketCapacityBytes: CAPACITY }) });
  const [one, two] = [localClient(endpointContract, impl), localClient(endpointContract, impl)];
  const started = performance.now();
  const bytes = await Promise.all([one, two].map(async (client) => count((await client.send(send)).stream)));
  const elapsed = performance.now() - started;
  assert.deepEqual(bytes, [2 * MiB, 2 * MiB]);
  assert.ok(elapsed >= floorMs(4 * MiB), `4 MiB sent in ${elapsed.toFixed(0)} ms; no less than ${floorMs(4 * MiB).toFixed(0)} ms at the limit`);
});

test("two clients' receives share the sink's bucket; an unlimited side is untouched", async () => {
  const received: number[] = [];
  const plain = implementation(MiB, received);
  const impl = throttleEndpoint(plain, { recv: createSharedBucket({ maxBytesPerSecond: RATE, bucketCapacityBytes: CAPACITY }) });
  assert.equal(impl.send, plain.send, 'no send limit: send is the implementation’s own');
  const [one, two] = [localClient(endpointContract, impl), localClient(endpointContract, impl)];
  const started = performance.now();
  await Promise.all([one.receive(receive, payload(2 * MiB)), two.receive(receive, payload(2 * MiB))]);
  const elapsed = performance.now() - started;
  assert.deepEqual(received, [2 * MiB, 2 * MiB]);
  assert.ok(elapsed >= floorMs(4 * MiB), `4 MiB received in ${elapsed.toFixed(0)} ms; no less than ${floorMs(4 * MiB).toFixed(0)} ms at the limit`);
  assert.equal(throttleEndpoint(plain, {}), plain, 'no limit at all: the implementation itself');
});
