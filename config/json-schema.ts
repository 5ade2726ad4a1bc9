/**
 * docs/zferry.schema.json: the JSON Schema of the configuration file for editors (YAML
 * language servers read it), generated from schema.ts by `npm run docs:config-schema` and
 * compared by a test so it cannot drift. It describes what may be written (the input), with
 * the defaults; rules across keys and jobs are zferry configcheck's.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

export const CONFIG_SCHEMA_PATH = 'docs/zferry.schema.json';

export function renderConfigJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
