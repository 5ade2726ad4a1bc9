import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RpcCancelledError,
  RpcDeadlineError,
  RpcError,
  RpcGoawayError,
  RpcInvalidRequestError,
  RpcProtocolError,
  RpcRemoteError,
  RpcStreamSourceError,
  RpcUnknownEndpointError,
} from '../../rpc/errors.js';
import {
  chooseVersion,
  decodeGoaway,
  decodeHello,
  decodeReset,
  decodeStreamHeaders,
  decodeWindow,
  encodeJson,
  encodeWindow,
  encodeWithError,
} from '../../rpc/wire.js';
import { handlerErrorToWire, rpcErrorToWire, wireToError } from '../../rpc/wire-error.js';
import { helloPayload } from '../helpers/rpc-raw-peer.js';

const json = (value: unknown): Buffer => encodeJson(value);
/** The limits a default HELLO announces, as a plain object to spread into variants. */
const helloLimits = (): Record<string, unknown> => (JSON.parse(helloPayload().toString()) as { limits: Record<string, unknown> }).limits;

describe('wire payloads', () => {
  test('HELLO: a valid one decodes; every field is checked', () => {
    const hello = decodeHello(helloPayload({ identity: { software: 'x', name: 'backup-host' }, extra: 'ignored' }));
    assert.equal(hello.role, 'acceptor');
    assert.equal(hello.identity.name, 'backup-host');
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ protocol: 'http' }, /speaks protocol "http"/],
      [{ versions: [] }, /versions/],
      [{ versions: [0] }, /versions/],
      [{ role: 'boss' }, /role/],
      [{ identity: 'me' }, /identity/],
      [{ limits: undefined }, /limits missing/],
      [{ limits: { ...helloLimits(), streamWindow: 1 } }, /streamWindow must be an integer in/],
      [{ limits: { ...helloLimits(), maxConcurrentStreams: 1.5 } }, /maxConcurrentStreams/],
      [{ features: [1] }, /features/],
    ];
    for (const [override, reason] of bad)
      assert.throws(
        () => decodeHello(helloPayload(override)),
        (error: unknown) => error instanceof RpcProtocolError && reason.test(error.message),
      );
    assert.throws(() => decodeHello(Buffer.from('[1,2]')), /not a JSON object/);
    assert.throws(() => decodeHello(Buffer.from('{"protocol":')), /not valid JSON/);
  });

  test('version choice: the highest common one', () => {
    assert.equal(chooseVersion([1], [1]), 1);
    assert.equal(chooseVersion([1, 2, 3], [2, 3, 9]), 3);
    assert.equal(chooseVersion([1], [2]), undefined);
  });

  test('HEADERS: requests, responses and trailers are validated', () => {
    assert.deepEqual(decodeStreamHeaders(json({ kind: 'request', endpoint: 'c/e', metadata: { a: 'b' }, timeoutMs: 5 })), {
      kind: 'request',
      endpoint: 'c/e',
      metadata: { a: 'b' },
      timeoutMs: 5,
    });
    assert.deepEqual(decodeStreamHeaders(json({ kind: 'response', ok: false, error: { code: 'RPC_REMOTE', message: 'm', remoteCode: 'E', details: [1] } })), {
      kind: 'response',
      ok: false,
      error: { code: 'RPC_REMOTE', message: 'm', remoteCode: 'E', details: [1] },
    });
    const bad: Array<[unknown, RegExp]> = [
      [{ kind: 'request', endpoint: '', metadata: {} }, /endpoint/],
      [{ kind: 'request', endpoint: 'x'.repeat(300), metadata: {} }, /endpoint/],
      [{ kind: 'request', endpoint: 'c/e', metadata: { a: 1 } }, /metadata/],
      [{ kind: 'request', endpoint: 'c/e', metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }, /metadata/],
      [{ kind: 'request', endpoint: 'c/e', timeoutMs: -1 }, /timeoutMs/],
      [{ kind: 'response' }, /ok: true or false/],
      [{ kind: 'trailer', ok: false }, /error must be/],
      [{ kind: 'trailer', ok: false, error: { code: 5, message: 'm' } }, /error must be/],
      [{ kind: 'rumour' }, /unknown kind/],
    ];
    for (const [value, reason] of bad)
      assert.throws(
        () => decodeStreamHeaders(json(value)),
        (error: unknown) => error instanceof RpcProtocolError && reason.test(error.message),
      );
  });

  test('RESET, GOAWAY and WINDOW payloads', () => {
    assert.deepEqual(decodeReset(json({ code: 'RPC_CANCELLED', message: 'x' })), { code: 'RPC_CANCELLED', message: 'x' });
    assert.throws(() => decodeReset(json({ code: 'RPC_CANCELLED' })), RpcProtocolError);
    assert.deepEqual(decodeGoaway(json({ lastStreamId: 9, code: 'RPC_GOAWAY', message: '' })), { lastStreamId: 9, code: 'RPC_GOAWAY', message: '' });
    assert.throws(() => decodeGoaway(json({ lastStreamId: -1, code: 'RPC_GOAWAY', message: '' })), RpcProtocolError);
    assert.equal(decodeWindow(encodeWindow(123456)), 123456);
    assert.throws(() => decodeWindow(Buffer.alloc(4)), /zero increment/);
  });
});

describe('errors within the peer header limit', () => {
  test('an error too big for the limit loses its details, then message length, never its code', () => {
    const error = { code: 'RPC_REMOTE', message: 'é'.repeat(10_000), remoteCode: 'ENOSPC', details: { big: 'x'.repeat(5000) } };
    const wrap = (e: unknown): unknown => ({ kind: 'response', ok: false, error: e });
    const payload = encodeWithError(wrap, error, 4096);
    assert.ok(payload.length <= 4096, `${payload.length} bytes`);
    const decoded = decodeStreamHeaders(payload);
    assert.ok(decoded.kind === 'response' && !decoded.ok);
    assert.equal(decoded.error.code, 'RPC_REMOTE');
    assert.equal(decoded.error.remoteCode, 'ENOSPC');
    assert.equal(decoded.error.details, undefined);
    assert.match(decoded.error.message, /^é+…$/);
    const small = { code: 'RPC_REMOTE', message: 'fits', details: [1] };
    assert.deepEqual(JSON.parse(encodeWithError(wrap, small, 4096).toString()), { kind: 'response', ok: false, error: small });
  });
});

describe('errors across the wire', () => {
  test('our own error classes keep their class and message', () => {
    for (const error of [
      new RpcCancelledError('gone'),
      new RpcDeadlineError('late'),
      new RpcUnknownEndpointError('who'),
      new RpcInvalidRequestError('request.a: bad'),
      new RpcStreamSourceError('zfs send died'),
      new RpcGoawayError('bye'),
      new RpcProtocolError('junk'),
    ]) {
      const back = wireToError(rpcErrorToWire(error));
      assert.equal(back.constructor, error.constructor);
      assert.equal(back.message, error.message);
      assert.equal(back.code, error.code);
    }
  });

  test('a handler error travels as RPC_REMOTE with its code and JSON details', () => {
    const thrown = Object.assign(new Error('dataset is busy'), { code: 'EBUSY', details: { dataset: 'pool/fs' } });
    const wire = handlerErrorToWire(thrown);
    assert.deepEqual(wire, { code: 'RPC_REMOTE', message: 'dataset is busy', remoteCode: 'EBUSY', details: { dataset: 'pool/fs' } });
    const back = wireToError(wire);
    assert.ok(back instanceof RpcRemoteError);
    assert.equal(back.remoteCode, 'EBUSY');
    assert.deepEqual(back.details, { dataset: 'pool/fs' });
    // Details that cannot be JSON are dropped, not fatal; long messages are clipped.
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    assert.equal(handlerErrorToWire(Object.assign(new Error('x'.repeat(20_000)), { details: circular })).details, undefined);
    assert.ok(handlerErrorToWire(new Error('x'.repeat(20_000))).message.length < 9000);
    assert.equal(handlerErrorToWire('a string').message, 'a string');
  });

  test('an RpcError thrown by a handler is still the handler failing (RPC_REMOTE)', () => {
    const wire = handlerErrorToWire(new RpcDeadlineError('inner call timed out'));
    assert.equal(wire.code, 'RPC_REMOTE');
    assert.equal(wire.remoteCode, 'RPC_DEADLINE_EXCEEDED');
  });

  test('an unknown code becomes RpcRemoteError carrying that code', () => {
    const error = wireToError({ code: 'SOMETHING_NEW', message: 'from the future' });
    assert.ok(error instanceof RpcRemoteError && error instanceof RpcError);
    assert.equal(error.remoteCode, 'SOMETHING_NEW');
    assert.ok(wireToError({ code: 'toString', message: 'x' }) instanceof RpcRemoteError, 'no prototype lookups');
  });
});
