/**
 * docs/control.md is generated from the control contract and checked in: it must be what the
 * contract renders to now, and every error code an endpoint declares must mean something and
 * be the code of an error the daemon's side really throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlContract } from '../../daemon/control-contract.js';
import { CONTROL_ERROR_CODES, InvalidStatusError, JobNotTriggerableError, UnknownJobError } from '../../daemon/control-errors.js';
import { CONTROL_REFERENCE_PATH, renderControlReference } from '../../daemon/control-reference.js';
import { assertGeneratedDocFresh } from '../helpers/generated-doc.js';

test(`${CONTROL_REFERENCE_PATH} is what the contract renders to (regenerate it with: npm run docs:endpoints)`, () => {
  assertGeneratedDocFresh(CONTROL_REFERENCE_PATH, renderControlReference());
});

test('every endpoint is described; every declared code has a meaning and an error class', () => {
  const declared = new Set<string>();
  for (const [name, def] of Object.entries(controlContract.endpoints)) {
    assert.ok(def.description.length > 0, `${name} has a description`);
    for (const code of def.errors) {
      assert.ok(Object.hasOwn(CONTROL_ERROR_CODES, code), `${name} declares ${code}, which has no meaning in control-errors.ts`);
      declared.add(code);
    }
  }
  assert.deepEqual(Object.keys(CONTROL_ERROR_CODES).sort(), [...declared].sort());
  const thrown = [new UnknownJobError('a', []).code, new JobNotTriggerableError('a', 'sink').code, new InvalidStatusError('x').code];
  assert.deepEqual(thrown.sort(), [...declared].sort());
});
