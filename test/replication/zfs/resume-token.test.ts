/**
 * Decoding OpenZFS resume tokens: genuine tokens give the contents zfs itself printed for them;
 * anything corrupt, truncated or crafted to mislead a reader is refused.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { decodeResumeToken } from '../../../replication/zfs/resume-token.js';
import { ResumeTokenDecodeError } from '../../../replication/zfs/errors.js';
import { encodeResumeToken, fullSendPairs, packNativeNvlist, tokenFromPacked } from '../../helpers/resume-token-encoder.js';
import { repositoryRoot } from '../../helpers/rpc-wire.js';

interface GenuineToken {
  what: string;
  token: string;
  toname: string;
  toguid: string;
  fromguid?: string;
  object?: string;
  offset?: string;
  bytes?: string;
  flags: string[];
}

const fixtures = JSON.parse(readFileSync(path.join(repositoryRoot(), 'test', 'fixtures', 'zfs', 'openzfs', 'resume-tokens.json'), 'utf8')) as {
  tokens: GenuineToken[];
  corrupt: Array<{ what: string; token: string }>;
};

function refused(token: string, reason: RegExp): void {
  assert.throws(
    () => decodeResumeToken(token),
    (error: unknown) => {
      assert.ok(error instanceof ResumeTokenDecodeError, `expected ResumeTokenDecodeError, got ${String(error)}`);
      assert.equal(error.code, 'ZFS_RESUME_TOKEN_UNREADABLE');
      assert.match(error.message, reason);
      return true;
    },
  );
}

describe('genuine OpenZFS resume tokens', () => {
  for (const fixture of fixtures.tokens) {
    test(`${fixture.what}: ${fixture.toname}`, () => {
      const token = decodeResumeToken(fixture.token);
      assert.equal(token.toname, fixture.toname);
      assert.equal(token.toguid, BigInt(fixture.toguid).toString());
      assert.equal(token.fromguid, fixture.fromguid === undefined ? undefined : BigInt(fixture.fromguid).toString());
      if (fixture.object !== undefined) assert.equal(token.object, BigInt(fixture.object));
      if (fixture.offset !== undefined) assert.equal(token.offset, BigInt(fixture.offset));
      if (fixture.bytes !== undefined) assert.equal(token.bytes, BigInt(fixture.bytes));
      assert.deepEqual(token.flags, {
        embedded: fixture.flags.includes('embedok'),
        compressed: fixture.flags.includes('compressok'),
        raw: fixture.flags.includes('rawok'),
        largeBlocks: fixture.flags.includes('largeblockok'),
      });
    });
  }

  test('the corrupted genuine token fails its checksum', () => {
    for (const { token } of fixtures.corrupt) refused(token, /checksum mismatch/);
  });

  test('one changed hex digit anywhere in the payload is caught', () => {
    const genuine = (fixtures.tokens[0] as GenuineToken).token;
    const payloadAt = genuine.lastIndexOf('-') + 1;
    for (const at of [payloadAt, payloadAt + 41, genuine.length - 9]) {
      const digit = genuine[at] === '0' ? '1' : '0';
      assert.throws(() => decodeResumeToken(genuine.slice(0, at) + digit + genuine.slice(at + 1)), ResumeTokenDecodeError, `digit ${at}`);
    }
  });

  test('the test encoder packs the very nvlist inside a genuine token (it is a faithful second source)', () => {
    const genuine = fixtures.tokens[0] as GenuineToken;
    const inflated = inflateSync(Buffer.from(genuine.token.slice(genuine.token.lastIndexOf('-') + 1), 'hex'));
    assert.ok(packNativeNvlist(fullSendPairs(genuine.toname, genuine.toguid)).equals(inflated));
    assert.equal(decodeResumeToken(encodeResumeToken(fullSendPairs(genuine.toname, genuine.toguid))).toname, genuine.toname);
  });
});

describe('malformed and misleading tokens are refused', () => {
  const good = fullSendPairs('tank/data@s1', '12345');

  test('not the token syntax', () => {
    for (const token of ['', 'nonsense', '1-abc-10', '1-abc-10-xyz', '1-abc-10-abc', '1--10-ab', `1-0-10-${'00'.repeat(3)}-00`]) {
      refused(token, /not of the form/);
    }
  });

  test('an unknown token version', () => {
    const token = encodeResumeToken(good);
    refused(`2${token.slice(1)}`, /version 2/);
  });

  test('a stated packed length that does not match, or is huge', () => {
    const token = encodeResumeToken(good);
    const [version, checksum, length, payload] = token.split('-') as [string, string, string, string];
    refused([version, checksum, (parseInt(length, 16) + 8).toString(16), payload].join('-'), /inflates to/);
    refused([version, checksum, (parseInt(length, 16) - 8).toString(16), payload].join('-'), /does not inflate/);
    refused([version, checksum, 'ffffffffffff', payload].join('-'), /packed length/);
  });

  test('a payload that is not zlib (with a matching checksum)', () => {
    const payload = Buffer.from('not zlib at all!');
    let sum = 0n;
    for (let at = 0; at < payload.length; at += 4) sum += BigInt(payload.readUInt32LE(at));
    refused(`1-${sum.toString(16)}-10-${payload.toString('hex')}`, /does not inflate/);
  });

  test('a name that appears twice (libnvpair would keep the last, a reader of the first would be fooled)', () => {
    refused(encodeResumeToken([...good, { name: 'toname', type: 'string', value: 'other/pool@x' }]), /toname appears twice/);
  });

  test('missing toname or toguid, or a toname of the wrong type', () => {
    refused(encodeResumeToken(good.filter((pair) => pair.name !== 'toname')), /no toname/);
    refused(encodeResumeToken(good.filter((pair) => pair.name !== 'toguid')), /no toguid/);
    refused(encodeResumeToken([...good.filter((pair) => pair.name !== 'toname'), { name: 'toname', type: 'uint64', value: 1n }]), /no toname/);
  });

  test('a nested nvlist (its pairs would follow outside the pair)', () => {
    refused(encodeResumeToken([...good, { name: 'nested', type: 'nvlist' }]), /nested nvlists/);
  });

  test('a truncated nvlist or bytes after its end', () => {
    const packed = packNativeNvlist(good);
    refused(tokenFromPacked(packed.subarray(0, packed.length - 4)), /end marker/);
    refused(tokenFromPacked(Buffer.concat([packed, Buffer.alloc(8)])), /after the end/);
    refused(tokenFromPacked(packed.subarray(0, 40)), /pair of \d+ bytes|end marker/);
  });

  test('an XDR-encoded nvlist is not a token', () => {
    const packed = packNativeNvlist(good);
    packed[0] = 1;
    refused(tokenFromPacked(packed), /encoding 1/);
  });
});

describe('what decodes besides the usual pairs', () => {
  test("a big-endian host's token", () => {
    const token = decodeResumeToken(encodeResumeToken(fullSendPairs('tank/data@s1', '18446744073709551615'), { littleEndian: false }));
    assert.equal(token.toname, 'tank/data@s1');
    assert.equal(token.toguid, '18446744073709551615');
  });

  test('flags and uint64 arrays (redact_snaps) of newer OpenZFS', () => {
    const token = decodeResumeToken(
      encodeResumeToken(
        fullSendPairs('tank/data@s1', '7', [
          { name: 'largeblockok', type: 'boolean' },
          { name: 'embedok', type: 'boolean' },
          { name: 'redact_snaps', type: 'uint64_array', value: [1n, 2n] },
        ]),
      ),
    );
    assert.deepEqual(token.flags, { embedded: true, compressed: false, raw: false, largeBlocks: true });
    assert.deepEqual(token.pairs.get('redact_snaps'), [1n, 2n]);
  });
});
