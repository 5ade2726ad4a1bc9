/** Writes docs/zferry.schema.json from the config schema: `npm run docs:config-schema`. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_SCHEMA_PATH, renderConfigJsonSchema } from '../config/json-schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(path.join(root, CONFIG_SCHEMA_PATH), renderConfigJsonSchema());
console.log(`wrote ${CONFIG_SCHEMA_PATH}`);
