/**
 * docs/zferry.schema.json is generated from the zod schema and checked in: it must be exactly
 * what the schema renders to now, and describe the keys a user writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_SCHEMA_PATH, renderConfigJsonSchema } from '../../config/json-schema.js';
import { repositoryRoot } from '../helpers/rpc-wire.js';

test(`${CONFIG_SCHEMA_PATH} is what the config schema renders to (regenerate it with: npm run docs:config-schema)`, () => {
  const checkedIn = readFileSync(path.join(repositoryRoot(), CONFIG_SCHEMA_PATH), 'utf8');
  const rendered = renderConfigJsonSchema();
  if (checkedIn === rendered) return;
  const checkedInLines = checkedIn.split('\n');
  const renderedLines = rendered.split('\n');
  let line = 0;
  while (renderedLines[line] === checkedInLines[line]) line++;
  assert.fail(
    `${CONFIG_SCHEMA_PATH} differs from the schema from line ${line + 1} on; run \`npm run docs:config-schema\` and commit the result.\n` +
      `checked in: ${JSON.stringify(checkedInLines[line])}\nrendered:   ${JSON.stringify(renderedLines[line])}`,
  );
});

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  oneOf?: JsonSchemaNode[];
  required?: string[];
  additionalProperties?: unknown;
  default?: unknown;
}

test('the JSON Schema describes the input: one strict object per job type, required keys and defaults', () => {
  const schema = JSON.parse(renderConfigJsonSchema()) as JsonSchemaNode & { $schema: string; title: string };
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(schema.title, 'zferry configuration');
  assert.deepEqual(schema.required, ['jobs']);
  const jobs = schema.properties?.jobs?.items?.oneOf ?? [];
  assert.deepEqual(
    jobs.map((job) => (job.properties?.type as { const?: string } | undefined)?.const),
    ['push', 'pull', 'sink', 'source', 'snap'],
  );
  for (const job of jobs) assert.equal(job.additionalProperties, false);
  const sink = jobs[2];
  assert.deepEqual(sink?.required, ['name', 'type', 'serve', 'root_fs']);
  const push = jobs[0];
  assert.equal(push?.properties?.on_diverged?.default, 'fail');
  assert.equal(push?.properties?.path_mapping?.default, 'nested');
  assert.equal(schema.properties?.global?.properties?.state_dir?.default, '/var/lib/zferry');
});
