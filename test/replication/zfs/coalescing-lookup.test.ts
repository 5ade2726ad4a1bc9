/** Coalesced lookups: a lone one goes at once, those asked for meanwhile share the next. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescingLookup } from '../../../replication/zfs/coalescing-lookup.js';

/** A lookup that answers `name.toUpperCase()` for names without `missing`, when released. */
function controlled(): { calls: string[][]; release: () => void; lookup: CoalescingLookup<string> } {
  const calls: string[][] = [];
  const gates: Array<() => void> = [];
  const lookup = new CoalescingLookup<string>(async (names) => {
    calls.push([...names]);
    await new Promise<void>((resolve) => gates.push(resolve));
    if (names.includes('boom')) throw new Error('zfs failed');
    return new Map(names.filter((n) => !n.includes('missing')).map((n) => [n, n.toUpperCase()]));
  }, 3);
  return { calls, lookup, release: () => gates.shift()?.() };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('coalescing lookup', () => {
  test('a lone lookup goes out at once; those asked for while it runs go out together', async () => {
    const { calls, release, lookup } = controlled();
    const first = lookup.lookup('a');
    await settle();
    assert.deepEqual(calls, [['a']], 'not held back');
    const waiting = ['b', 'c', 'b', 'missing-x'].map((n) => lookup.lookup(n));
    await settle();
    assert.equal(calls.length, 1, 'nothing more while one runs');
    release();
    assert.equal(await first, 'A');
    await settle();
    assert.deepEqual(calls[1], ['b', 'c'], 'the next batch: up to 3 waiting, each name once');
    release();
    await settle();
    assert.deepEqual(calls[2], ['missing-x'], 'the rest in the batch after');
    release();
    assert.deepEqual(await Promise.all(waiting), ['B', 'C', 'B', undefined]);
    assert.equal(lookup.batches, 3);
  });

  test('a failed lookup fails only the names in its batch', async () => {
    const { release, lookup } = controlled();
    const failing = lookup.lookup('boom');
    await settle();
    const later = lookup.lookup('d');
    release();
    await assert.rejects(failing, /zfs failed/);
    await settle();
    release();
    assert.equal(await later, 'D');
  });
});
