/** docs/daemon.md's Monitoring table lists exactly the zferry metrics the registry exports. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DaemonMetrics } from '../../../daemon/metrics/daemon-metrics.js';
import { repositoryRoot } from '../../helpers/rpc-wire.js';

test('docs/daemon.md lists every zferry metric, and only those', async () => {
  const text = readFileSync(path.join(repositoryRoot(), 'docs', 'daemon.md'), 'utf8');
  const start = text.indexOf('\n## Monitoring\n');
  assert.ok(start >= 0, 'docs/daemon.md has a Monitoring section');
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  const listed = [...section.matchAll(/^\| `(zferry_[a-z_]+)` \|/gm)].map((match) => match[1]).sort();
  const exported = (await new DaemonMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((metric) => metric.name).sort();
  assert.deepEqual(listed, exported);
});
