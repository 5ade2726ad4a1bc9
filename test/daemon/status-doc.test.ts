/**
 * docs/status.md lists the members of `status --json` by hand, with their meaning: every member
 * of the schema must be listed under its type's heading, and nothing else, so the page cannot
 * fall behind the shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { daemonStatusSchema } from '../../daemon/status-schema.js';
import { repositoryRoot } from '../helpers/rpc-wire.js';

interface JsonSchema {
  $ref?: string;
  type?: string;
  properties?: Record<string, JsonSchema>;
  $defs?: Record<string, JsonSchema>;
}

/** Member paths of an object, nested inline objects as `a.b` (named types are listed on their own). */
function memberPaths(schema: JsonSchema, prefix = ''): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, member]) => [
    `${prefix}${name}`,
    ...(member.type === 'object' && member.properties !== undefined ? memberPaths(member, `${prefix}${name}.`) : []),
  ]);
}

test('docs/status.md lists every member of every object of the status, under its heading', () => {
  const text = readFileSync(path.join(repositoryRoot(), 'docs', 'status.md'), 'utf8');
  const shape = text.slice(text.indexOf('## The shape of `status --json`'));
  const json = z.toJSONSchema(daemonStatusSchema, { io: 'input' }) as JsonSchema;
  const objects = Object.entries({ DaemonStatus: json, ...json.$defs }).filter(([, schema]) => schema.type === 'object');
  assert.deepEqual(objects.map(([id]) => id).sort(), ['DaemonStatus', 'FilesystemStatusView', 'InvocationView', 'JobStatusView', 'ServedConnectionView']);
  for (const [id, schema] of objects) {
    const start = shape.indexOf(`### ${id}\n`);
    assert.ok(start >= 0, `docs/status.md has a section ### ${id}`);
    const end = shape.indexOf('\n### ', start + 1);
    const section = shape.slice(start, end === -1 ? undefined : end);
    const listed = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]);
    assert.deepEqual(listed, memberPaths(schema), `the members of ${id}, in the schema's order`);
  }
});
