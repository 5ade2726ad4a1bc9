// Which of a push or pull job's limits paces its invocation: a push its send limit, a pull its
// recv limit, the lower where a job sets both; none, no limit in the job spec.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BandwidthLimit, PullJob, PushJob } from '../../config/types.js';
import { jobBandwidthLimit } from '../../daemon/invocation.js';
import { policy, pullFromSource, pushToSink } from '../helpers/daemon-config.js';

const limit = (mib: number): BandwidthLimit => ({ maxBytesPerSecond: mib * 1024 * 1024, bucketCapacityBytes: 256 * 1024 });

const push = (bandwidthLimit: PushJob['replication']['bandwidthLimit']): PushJob =>
  pushToSink('p', { 'tank/a': true }, 'l', 'c', { replication: policy({ bandwidthLimit }) });
const pull = (bandwidthLimit: PullJob['replication']['bandwidthLimit']): PullJob => ({
  ...pullFromSource('q', 'l', 'backup/q'),
  replication: policy({ bandwidthLimit }),
});

test('a push job is paced by its send limit, a pull job by its recv limit; both set: the lower', () => {
  assert.equal(jobBandwidthLimit(push({})), undefined);
  assert.equal(jobBandwidthLimit(pull({})), undefined);
  assert.deepEqual(jobBandwidthLimit(push({ send: limit(50) })), limit(50));
  assert.deepEqual(jobBandwidthLimit(pull({ recv: limit(20) })), limit(20));
  assert.deepEqual(jobBandwidthLimit(push({ send: limit(50), recv: limit(10) })), limit(10));
  assert.deepEqual(jobBandwidthLimit(pull({ send: limit(5), recv: limit(20) })), limit(5));
});
