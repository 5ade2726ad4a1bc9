/** Checks that a document generated from code (docs/endpoints.md, docs/control.md) is what the code renders now. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repositoryRoot } from './rpc-wire.js';

export function assertGeneratedDocFresh(relativePath: string, rendered: string): void {
  const checkedIn = readFileSync(path.join(repositoryRoot(), relativePath), 'utf8');
  if (checkedIn === rendered) return;
  const checkedInLines = checkedIn.split('\n');
  const renderedLines = rendered.split('\n');
  let line = 0;
  while (renderedLines[line] === checkedInLines[line]) line++;
  assert.fail(
    `${relativePath} differs from what the code renders from line ${line + 1} on; run \`npm run docs:endpoints\` and commit the result.\n` +
      `checked in: ${JSON.stringify(checkedInLines[line])}\nrendered:   ${JSON.stringify(renderedLines[line])}`,
  );
}
