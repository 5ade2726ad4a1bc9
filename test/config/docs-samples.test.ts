/** The sample configurations in docs/configuration.md are valid as written. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../config/load.js';
import { repositoryRoot } from '../helpers/rpc-wire.js';

const DOC = path.join(repositoryRoot(), 'docs', 'configuration.md');

/** The ```yaml blocks that are whole files (they start with `jobs:` or `global:` and hold no `...`). */
function wholeFileSamples(): string[] {
  const text = readFileSync(DOC, 'utf8');
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '').filter((yaml) => /^(jobs|global):/.test(yaml) && !yaml.includes('...'));
}

test('docs/configuration.md has a sample per job type, and each is a valid configuration', () => {
  const samples = wholeFileSamples();
  const types = new Set<string>();
  for (const [index, sample] of samples.entries()) {
    const config = parseConfig(sample, `docs/configuration.md sample ${index + 1}`);
    for (const job of config.jobs) types.add(job.type);
  }
  assert.deepEqual([...types].sort(), ['pull', 'push', 'sink', 'snap', 'source']);
  assert.ok(samples.length >= 5, `${samples.length} samples`);
});

test('the sample the README installs (packaging/zferry.yml) is a valid configuration', () => {
  const file = path.join(repositoryRoot(), 'packaging', 'zferry.yml');
  const config = parseConfig(readFileSync(file, 'utf8'), file);
  assert.deepEqual(
    config.jobs.map((job) => [job.name, job.type]),
    [
      ['local-backups', 'sink'],
      ['data', 'push'],
    ],
  );
});
