// The endpoint contract's request validation: the send options and the names a peer may send.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointContract, filesystemName, shortName, snapshotName, versionName } from '../../replication/contract.js';
import { isValidName, isValidShortName } from '../../replication/zfs/names.js';

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

test('names on the wire follow the dataset-name rules the zfs driver checks', () => {
  const names = [
    'tank',
    'tank/a',
    'tank/a b',
    'tank/a@s',
    'tank/a#m',
    'tank/a@s@t',
    'tank/a@b#c',
    '1tank/a',
    '_tank',
    'tank/-R',
    'tank/ a',
    'tank/..',
    'tank/./a',
    'tank//a',
    'tank/a@..',
    'tank/a@.',
    'tank/a@-s',
    'tank/a@ s',
    'tank/a@.s',
    '-tank',
    `tank/${'a'.repeat(250)}`,
  ];
  for (const name of names) {
    assert.equal(filesystemName.safeParse(name).success, isValidName(name, 'filesystem'), name);
    assert.equal(snapshotName.safeParse(name).success, isValidName(name, 'snapshot'), name);
    assert.equal(versionName.safeParse(name).success, isValidName(name) && !isValidName(name, 'filesystem'), name);
    const short = name.slice(name.lastIndexOf('/') + 1);
    assert.equal(shortName.safeParse(short).success, isValidShortName(short), short);
  }
});
