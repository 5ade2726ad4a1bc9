/**
 * Writes the references generated from RPC contracts: docs/endpoints.md (the replication
 * endpoint) and docs/control.md (the daemon's control socket). `npm run docs:endpoints`.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTROL_REFERENCE_PATH, renderControlReference } from '../daemon/control-reference.js';
import { ENDPOINT_REFERENCE_PATH, renderEndpointReference } from '../replication/endpoint-reference.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const [file, render] of [
  [ENDPOINT_REFERENCE_PATH, renderEndpointReference],
  [CONTROL_REFERENCE_PATH, renderControlReference],
] as const) {
  writeFileSync(path.join(root, file), render());
  console.log(`wrote ${file}`);
}
