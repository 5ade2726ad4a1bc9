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

test("the README's backup-server samples (a tls sink, a client's push) are valid configurations", () => {
  const text = readFileSync(path.join(repositoryRoot(), 'README.md'), 'utf8');
  const samples = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  assert.equal(samples.length, 2);
  const [server, client] = samples.map((sample, index) => parseConfig(sample, `README.md sample ${index + 1}`));
  assert.deepEqual(
    server?.jobs.map((job) => [job.type, job.type === 'sink' ? job.serve.type : '']),
    [['sink', 'tls']],
  );
  const push = client?.jobs[0];
  assert.equal(push?.type, 'push');
  if (push?.type === 'push') {
    assert.equal(push.connect.type, 'tls');
    assert.equal(push.rpo?.maxAgeMs, 2 * 3600_000);
    assert.equal(push.rpo?.onLate.length, 1);
    assert.equal(push.replication.bandwidthLimit.send?.maxBytesPerSecond, 50 * 1024 * 1024);
  }
});
