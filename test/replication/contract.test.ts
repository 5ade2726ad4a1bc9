// The endpoint contract's request validation for send options: what a peer may ask for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointContract } from '../../replication/contract.js';

const send = endpointContract.endpoints.send.request;
const estimate = endpointContract.endpoints.estimateSend.request;
const base = { snapshot: 'tank/a@s1', intermediates: false };

test('send and estimateSend take the four stream options, or none', () => {
  for (const request of [send, estimate]) {
    assert.deepEqual(request.parse(base), base);
    const all = { ...base, flags: { raw: true, compressed: true, largeBlocks: true, embedded: false } };
    assert.deepEqual(request.parse(all), all);
  }
});

test('an unknown or mistyped stream option is refused, never passed on', () => {
  for (const request of [send, estimate]) {
    assert.throws(() => request.parse({ ...base, flags: { replicate: true } }));
    assert.throws(() => request.parse({ ...base, flags: { raw: 'yes' } }));
    assert.throws(() => request.parse({ ...base, flags: ['-R'] }));
  }
});
