/** The bandwidth-delay probe: which PONGs are its own, and when a round trip says credit was the limit. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReceiveWindow } from '../../rpc/receive-window.js';
import { RpcStream } from '../../rpc/stream.js';
import type { StreamEvents } from '../../rpc/stream.js';
import { PROBE_INTERVAL_MS, WindowProbe } from '../../rpc/window-probe.js';

const MiB = 1024 * 1024;
const NO_EVENTS: StreamEvents = { headers() {}, message() {}, data() {}, aborted() {}, writable() {} };

function receivingStream(): RpcStream {
  return new RpcStream(3, false, NO_EVENTS, MiB, new ReceiveWindow(2 * MiB, 16 * MiB));
}

describe('window probe', () => {
  test('its tokens are told apart from keepalive tokens', () => {
    const probe = new WindowProbe();
    const token = probe.start(receivingStream(), 0);
    assert.ok(WindowProbe.isProbeToken(token));
    for (const keepalive of [1n, 2n, 1000n, (1n << 62n) + 5n]) assert.equal(WindowProbe.isProbeToken(keepalive), false);
  });

  test('a round trip that brought half a window or more names the stream; less does not', () => {
    const probe = new WindowProbe();
    const stream = receivingStream();
    let token = probe.start(stream, 0);
    assert.ok(probe.running);
    stream.receive.received(1 * MiB); // half of the 2 MiB window
    assert.equal(probe.finish(token), stream);
    assert.equal(probe.running, false);

    assert.equal(probe.canStart(PROBE_INTERVAL_MS - 1), false, 'not again so soon');
    assert.ok(probe.canStart(PROBE_INTERVAL_MS));
    token = probe.start(stream, PROBE_INTERVAL_MS);
    stream.receive.consumed(1 * MiB, false);
    stream.receive.received(1 * MiB - 1);
    assert.equal(probe.finish(token), undefined, 'under half the window: not credit-bound');
  });

  test('ignores unknown tokens and streams closed in the meantime', () => {
    const probe = new WindowProbe();
    const stream = receivingStream();
    const token = probe.start(stream, 0);
    stream.receive.received(2 * MiB);
    assert.equal(probe.finish(token + 1n), undefined);
    assert.ok(probe.running, 'still waiting for its own answer');
    stream.closed = true;
    assert.equal(probe.finish(token), undefined);
    assert.equal(probe.running, false);
  });
});
