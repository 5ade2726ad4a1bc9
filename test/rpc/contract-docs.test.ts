/** The Markdown reference a contract renders to: names, stream sides, members, named types, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineContract, endpoint } from '../../rpc/index.js';
import { renderContractReference } from '../../rpc/contract-docs.js';
import { testContract } from '../helpers/rpc-test-contract.js';

test('every endpoint with its wire name, its stream side and its request and response members', () => {
  const text = renderContractReference(testContract, { title: 'Test' });
  assert.match(text, /^# Test\n/);
  for (const name of Object.keys(testContract.endpoints)) assert.match(text, new RegExp(`^### zferry\\.test\\.v1/${name}$`, 'm'));
  assert.match(text, /### zferry\.test\.v1\/upload\n\nByte stream: request: /);
  assert.match(text, /### zferry\.test\.v1\/download\n\nByte stream: response: /);
  assert.match(text, /### zferry\.test\.v1\/add\n\nByte stream: none: /);
  assert.match(text, /\| `a` \| number \| yes \| {2}\|/);
  assert.match(text, /\| `n` \| integer \| no \| {2}\|/);
  assert.match(text, /\| `metadata` \| map of string → string \| yes \|/);
  assert.match(text, /Response:\n\nempty object `\{\}`/);
});

test('nested members, nullable values, named types, constraints, descriptions and errors', () => {
  const Item = z
    .object({
      id: z
        .string()
        .regex(/^[a-z]+$/)
        .describe('the id'),
    })
    .meta({ id: 'ReferenceTestItem' });
  const contract = defineContract('zferry.docs.v1', {
    lookup: endpoint({
      description: 'Finds things.',
      errors: ['NOT_FOUND'],
      request: z.object({ where: z.object({ name: z.string().min(1).max(9), tags: z.array(z.object({ key: z.string() })).max(3) }) }),
      response: z.object({ found: z.array(Item).nullable(), count: z.number().int().nonnegative() }),
    }),
  });
  const text = renderContractReference(contract, { title: 'Docs', intro: ['Intro.'], errorCodes: { NOT_FOUND: 'nothing matched' } });
  assert.match(text, /^# Docs\n\nIntro\.\n/);
  assert.match(text, /### zferry\.docs\.v1\/lookup\n\nFinds things\.\n/);
  assert.match(text, /\| `where\.name` \| string \| yes \| 1–9 characters \|/);
  assert.match(text, /\| `where\.tags` \| array of objects \| yes \| at most 3 items \|/);
  assert.match(text, /\| `where\.tags\[\]\.key` \| string \| yes \| {2}\|/);
  assert.match(text, /\| `found` \| array of \[ReferenceTestItem\]\(#referencetestitem\) or `null` \| yes \|/);
  assert.match(text, /\| `count` \| integer \| yes \| ≥ 0 \|/);
  assert.match(text, /## Types\n\n### ReferenceTestItem\n\n\| member[^\n]*\n[^\n]*\n\| `id` \| string \| yes \| the id; matches `\^\[a-z\]\+\$` \|/);
  assert.match(text, /Errors \(the `remoteCode` of an `RPC_REMOTE` error; see \[Error codes\]\(#error-codes\)\): `NOT_FOUND`\./);
  assert.match(text, /## Error codes\n\n\| code \| meaning \|\n\|[-|]+\|\n\| `NOT_FOUND` \| Nothing matched\. \|/);
});

test('a pipe in a pattern does not break the table', () => {
  const contract = defineContract('zferry.docs.v2', {
    pick: endpoint({ request: z.object({ mode: z.string().regex(/^(a|b)$/) }), response: z.object({}) }),
  });
  assert.match(renderContractReference(contract, { title: 'T' }), /\| `mode` \| string \| yes \| matches `\^\(a\\\|b\)\$` \|/);
});
