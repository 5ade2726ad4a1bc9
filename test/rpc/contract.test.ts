import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { DEFAULT_MAX_REQUEST_BYTES, defineContract, endpoint, localClient, wireEndpointName } from '../../rpc/index.js';
import type { CallContext, Client, Implementation, StreamResponse } from '../../rpc/index.js';

/** Compile-time check: `T` and `U` are the same type. */
type Equal<T, U> = (<V>() => V extends T ? 1 : 2) extends <V>() => V extends U ? 1 : 2 ? true : false;
function assertType<_T extends true>(): void {}

const contract = defineContract('zferry.test.types', {
  plain: endpoint({ request: z.object({ n: z.number() }), response: z.object({ doubled: z.number() }) }),
  push: endpoint({ stream: 'request', request: z.object({ name: z.string() }), response: z.object({ bytes: z.number() }) }),
  pull: endpoint({ stream: 'response', request: z.object({}), response: z.object({ size: z.number().optional() }) }),
  explicitNone: endpoint({ stream: 'none', request: z.string(), response: z.boolean() }),
});

describe('contracts', () => {
  test('endpoint types follow the stream side: handlers and client methods', () => {
    type C = typeof contract;
    assertType<Equal<Implementation<C>['plain'], (req: { n: number }, ctx: CallContext) => Promise<{ doubled: number }>>>();
    assertType<Equal<Implementation<C>['push'], (req: { name: string }, stream: Readable, ctx: CallContext) => Promise<{ bytes: number }>>>();
    assertType<Equal<Implementation<C>['pull'], (req: Record<string, never>, ctx: CallContext) => Promise<StreamResponse<{ size?: number | undefined }>>>>();
    assertType<Equal<Client<C>['explicitNone'], (req: string, opts?: import('../../rpc/index.js').CallOptions) => Promise<boolean>>>();
    assertType<Equal<ReturnType<Client<C>['pull']>, Promise<StreamResponse<{ size?: number | undefined }>>>>();
    assert.deepEqual(Object.fromEntries(Object.entries(contract.endpoints).map(([name, def]) => [name, def.stream])), {
      plain: 'none',
      push: 'request',
      pull: 'response',
      explicitNone: 'none',
    });
  });

  test('a contract is frozen and names its endpoints on the wire as contract/endpoint', () => {
    assert.ok(Object.isFrozen(contract) && Object.isFrozen(contract.endpoints));
    assert.equal(wireEndpointName(contract, 'plain'), 'zferry.test.types/plain');
  });

  test('bad contract or endpoint names and reserved names are refused', () => {
    const any = endpoint({ request: z.object({}), response: z.object({}) });
    assert.throws(() => defineContract('has space', { a: any }), /invalid contract name/);
    assert.throws(() => defineContract('ok', { 'a/b': any }), /invalid endpoint name/);
    for (const reserved of ['close', 'connection', 'then', 'activeCallCount']) {
      assert.throws(() => defineContract('ok', { [reserved]: any }), /reserved/);
    }
  });

  test('an endpoint accepts 64 KiB requests unless it declares a limit, which must be a positive integer', () => {
    assert.equal(contract.endpoints.plain.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES);
    assert.equal(DEFAULT_MAX_REQUEST_BYTES, 64 * 1024);
    const large = endpoint({ maxRequestBytes: 4 * 1024 * 1024, request: z.object({}), response: z.object({}) });
    assert.equal(large.maxRequestBytes, 4 * 1024 * 1024);
    for (const bad of [0, -1, 1.5, 2 * 1024 * 1024 * 1024]) {
      assert.throws(() => endpoint({ maxRequestBytes: bad, request: z.object({}), response: z.object({}) }), /maxRequestBytes must be an integer/);
    }
    // A definition made without endpoint() has no limit: refused rather than unbounded.
    const handMade = { stream: 'none', request: z.object({}), response: z.object({}) } as unknown as ReturnType<typeof endpoint>;
    assert.throws(() => defineContract('ok', { a: handMade }), /invalid maxRequestBytes/);
  });

  test('an implementation missing an endpoint is refused when it is registered', () => {
    const partial = {
      async plain() {
        return { doubled: 0 };
      },
    } as unknown as Implementation<typeof contract>;
    assert.throws(() => localClient(contract, partial), /lacks endpoint push/);
  });
});
