/**
 * docs/endpoints.md is generated from the contract and checked in: it must be exactly what the
 * contract renders to now, and every error code the contract declares must be one a handler
 * can really throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointContract } from '../../replication/contract.js';
import { ENDPOINT_REFERENCE_PATH, renderEndpointReference } from '../../replication/endpoint-reference.js';
import { ENDPOINT_ERROR_CODES } from '../../replication/error-codes.js';
import {
  CursorOutsideTreeError,
  ParentNotFoundError,
  PoolNotFoundError,
  OutsideRootError,
  ResumeTokenMismatchError,
  ResumeTokenUnreadableError,
  RollbackMismatchError,
  ServedRootNotFoundError,
  TargetNotEmptyError,
} from '../../replication/endpoint/errors.js';
import * as zfs from '../../replication/zfs/index.js';
import { assertGeneratedDocFresh } from '../helpers/generated-doc.js';

test(`${ENDPOINT_REFERENCE_PATH} is what the contract renders to (regenerate it with: npm run docs:endpoints)`, () => {
  assertGeneratedDocFresh(ENDPOINT_REFERENCE_PATH, renderEndpointReference());
});

test('every endpoint declares its errors, each a code with a meaning', () => {
  const used = new Set<string>();
  for (const [name, def] of Object.entries(endpointContract.endpoints)) {
    assert.ok(def.description.length > 0, `${name} has a description`);
    assert.ok(def.errors.length > 0, `${name} declares its errors`);
    for (const code of def.errors) {
      assert.ok(Object.hasOwn(ENDPOINT_ERROR_CODES, code), `${name} declares ${code}, which has no meaning in error-codes.ts`);
      used.add(code);
    }
  }
  assert.deepEqual(
    Object.keys(ENDPOINT_ERROR_CODES).filter((code) => !used.has(code)),
    [],
    'every listed code is declared by some endpoint',
  );
});

test('every declared code is the code of an error class the endpoint or the zfs driver throws', () => {
  const thrown = new Set<string>([
    new OutsideRootError('a', ['b']).code,
    new ResumeTokenUnreadableError(new Error('x')).code,
    new ResumeTokenMismatchError('a@b', 'x').code,
    new TargetNotEmptyError('a', 1).code,
    new RollbackMismatchError('a@b', '1', undefined).code,
    new CursorOutsideTreeError('a', 'b').code,
    new PoolNotFoundError('a', 'a/b').code,
    new ParentNotFoundError('a/b/c', 'a/b').code,
    // Thrown by a daemon's served sink (daemon/serving), at `session`.
    new ServedRootNotFoundError('sink', 'a/b').code,
    new zfs.InvalidNameError('a', 'x').code,
  ]);
  for (const value of Object.values(zfs)) {
    if (typeof value === 'function' && value.prototype instanceof zfs.ZfsError) {
      thrown.add(new (value as new (message: string) => zfs.ZfsError)('x').code);
    }
  }
  assert.deepEqual(
    Object.keys(ENDPOINT_ERROR_CODES).filter((code) => !thrown.has(code)),
    [],
  );
});
