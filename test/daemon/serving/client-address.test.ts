/**
 * A tcp client's identity by its address (zrepl's `clients` map): exact beats range, the longest
 * prefix wins, `*` becomes the address, an IPv4-mapped IPv6 address matches IPv4 rules, and an
 * address no rule covers has no identity.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientAddressRule } from '../../../config/types.js';
import { identityOfAddress, plainAddress } from '../../../daemon/serving/client-address.js';

const position = { file: '/test/zferry.yml', line: 1, column: 1 };

function rule(pattern: string, identity: string): ClientAddressRule {
  const [address = '', prefix] = pattern.split('/');
  const family = address.includes(':') ? 6 : 4;
  return { pattern, address, prefixLength: prefix !== undefined ? Number(prefix) : family === 4 ? 32 : 128, family, identity, position };
}

const rules = [
  rule('192.0.2.0/24', 'lab-*'),
  rule('192.0.2.10', 'db1'),
  rule('192.0.2.128/25', 'upper'),
  rule('10.0.0.0/8', 'office'),
  rule('2001:db8::/32', 'v6-*'),
  rule('2001:db8::5', 'web'),
];

describe('identityOfAddress', () => {
  test('an exact address beats every range that covers it', () => {
    assert.equal(identityOfAddress(rules, '192.0.2.10'), 'db1');
    assert.equal(identityOfAddress(rules, '2001:db8::5'), 'web');
  });

  test('of the ranges covering an address, the longest prefix wins, whatever the order of the rules', () => {
    assert.equal(identityOfAddress(rules, '192.0.2.200'), 'upper');
    assert.equal(identityOfAddress([...rules].reverse(), '192.0.2.200'), 'upper');
    assert.equal(identityOfAddress(rules, '10.9.8.7'), 'office');
  });

  test('a * in the identity becomes the client address', () => {
    assert.equal(identityOfAddress(rules, '192.0.2.7'), 'lab-192.0.2.7');
    assert.equal(identityOfAddress(rules, '2001:db8::77'), 'v6-2001:db8::77');
  });

  test('an IPv4-mapped IPv6 address (a dual-stack socket) matches the IPv4 rules', () => {
    assert.equal(identityOfAddress(rules, '::ffff:192.0.2.10'), 'db1');
    assert.equal(identityOfAddress(rules, '::FFFF:192.0.2.7'), 'lab-192.0.2.7');
    assert.equal(plainAddress('[2001:DB8::1]'), '2001:db8::1');
  });

  test('an address no rule covers, or no address at all, has no identity', () => {
    assert.equal(identityOfAddress(rules, '198.51.100.1'), undefined);
    assert.equal(identityOfAddress(rules, '2001:db9::1'), undefined);
    assert.equal(identityOfAddress(rules, ''), undefined);
    assert.equal(identityOfAddress([], '192.0.2.10'), undefined);
    // An IPv4 rule never covers a real IPv6 address, nor the other way round.
    assert.equal(identityOfAddress([rule('0.0.0.0/0', 'any4')], '::1'), undefined);
    assert.equal(identityOfAddress([rule('::/0', 'any6')], '127.0.0.1'), undefined);
  });
});
