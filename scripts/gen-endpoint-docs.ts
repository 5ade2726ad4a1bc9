/** Writes docs/endpoints.md from the replication contract: `npm run docs:endpoints`. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENDPOINT_REFERENCE_PATH, renderEndpointReference } from '../replication/endpoint-reference.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(path.join(root, ENDPOINT_REFERENCE_PATH), renderEndpointReference());
console.log(`wrote ${ENDPOINT_REFERENCE_PATH}`);
