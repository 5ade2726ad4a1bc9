/** The receive window policy on its own: batching, growth, shrinking back, invariants. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReceiveWindow } from '../../rpc/receive-window.js';
import { Random } from '../helpers/rpc-fuzz.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Receive `bytes` and consume them at once, alone on the connection; the credit returned. */
function flow(window: ReceiveWindow, bytes: number, crowded = false): number {
  window.received(bytes);
  return window.consumed(bytes, crowded);
}

describe('receive window', () => {
  test('credit goes back in batches of a quarter of the window', () => {
    const window = new ReceiveWindow(2 * MiB, 16 * MiB);
    assert.equal(flow(window, 256 * KiB), 0, 'less than a quarter is kept');
    assert.equal(flow(window, 255 * KiB), 0, 'still less than a quarter');
    assert.equal(flow(window, 1 * KiB), 512 * KiB, 'a quarter goes back in one increment');
    assert.equal(window.remaining, 2 * MiB);
  });

  test('grow doubles the window up to max and hands out the growth at once', () => {
    const window = new ReceiveWindow(2 * MiB, 16 * MiB);
    window.received(2 * MiB);
    window.consumed(2 * MiB, false); // returned: 2 MiB
    const sizes: number[] = [];
    while (window.canGrow) {
      const before = window.remaining;
      const increment = window.grow();
      assert.equal(increment, window.size / 2, 'the growth is credit for the peer now');
      assert.equal(window.remaining, before + increment);
      sizes.push(window.size);
    }
    assert.deepEqual(sizes, [4 * MiB, 8 * MiB, 16 * MiB]);
    assert.equal(window.grow(), 0, 'never beyond max');
    assert.equal(window.size, 16 * MiB);
  });

  test('does not grow while our consumer lags (more than half the window unread)', () => {
    const window = new ReceiveWindow(2 * MiB, 16 * MiB);
    window.received(2 * MiB);
    window.consumed(512 * KiB, false);
    assert.equal(window.buffered, 1536 * KiB);
    assert.equal(window.grow(), 0);
    assert.equal(window.size, 2 * MiB);
    window.consumed(1024 * KiB, false);
    assert.ok(window.grow() > 0, 'grows once the consumer caught up');
  });

  test('shrinks back to the base when crowded, by keeping consumed bytes back', () => {
    const window = new ReceiveWindow(1 * MiB, 8 * MiB);
    while (window.canGrow) window.grow();
    assert.equal(window.size, 8 * MiB);
    window.received(8 * MiB); // the peer used all its credit
    let returned = 0;
    for (let i = 0; i < 8; i++) returned += window.consumed(1 * MiB, true);
    assert.equal(window.size, 1 * MiB, 'back at the base');
    assert.equal(returned, 1 * MiB, 'only the base went back');
    assert.equal(window.remaining, 1 * MiB, 'the peer holds at most the base');
    assert.ok(flow(window, 512 * KiB, true) > 0, 'credit flows again at the base size');
    assert.equal(window.size, 1 * MiB, 'never below the base');
  });

  test('max below the base means a fixed window', () => {
    const window = new ReceiveWindow(4 * MiB, 1 * MiB);
    assert.equal(window.max, 4 * MiB);
    assert.equal(window.canGrow, false);
    assert.equal(window.grow(), 0);
  });

  test('random traffic keeps the books balanced: credit + unread + unreturned = window, within bounds', () => {
    const random = new Random(0x5eed_0077);
    const base = 256 * KiB;
    const max = 4 * MiB;
    for (let run = 0; run < 200; run++) {
      const window = new ReceiveWindow(base, max);
      let unread = 0;
      let returnedTotal = 0;
      let consumedTotal = 0;
      for (let step = 0; step < 300; step++) {
        const action = random.below(3);
        if (action === 0 && window.remaining > 0) {
          const bytes = 1 + random.below(window.remaining);
          window.received(bytes);
          unread += bytes;
        } else if (action === 1 && unread > 0) {
          const bytes = 1 + random.below(unread);
          unread -= bytes;
          consumedTotal += bytes;
          returnedTotal += window.consumed(bytes, random.below(4) === 0);
        } else {
          returnedTotal += window.grow();
        }
        assert.ok(window.remaining >= 0, 'the peer never holds negative credit');
        assert.equal(window.buffered, unread, 'bytes unread are accounted for');
        assert.ok(window.size >= base && window.size <= max, `window ${window.size} within [${base}, ${max}]`);
        assert.ok(window.remaining + unread <= window.size, 'memory stays within the window');
      }
      assert.ok(returnedTotal <= consumedTotal + max - base, 'credit handed out is consumed bytes plus growth');
    }
  });
});
