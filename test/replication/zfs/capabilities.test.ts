import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { combineCapabilities, interpretProbe, poolProbeFromOutput, type BinaryFeatures, type BinaryProbe } from '../../../replication/zfs/capabilities.js';
import type { RunResult } from '../../../replication/zfs/exec.js';
import { readZfsFixture, readZfsFixtureJson, type RecordedProbe } from '../../helpers/zfs-fixtures.js';

/** Maps a probe's argv back to the feature it decides. */
const FEATURE_BY_ARGS: Record<string, keyof BinaryFeatures> = {
  'send -c': 'sendCompressed',
  'send -w': 'sendRaw',
  'send -L': 'sendLargeBlocks',
  'send -e': 'sendEmbedded',
  'send -t': 'sendResumeToken',
  'send -n -P': 'sendDryRun',
  'receive -s': 'receiveResumable',
  'receive -o': 'receiveSetProperty',
  'receive -x': 'receiveExcludeProperty',
  'receive -u': 'receiveUnmounted',
  'list -p -H -o name zferry-probe!': 'listParsable',
  'get -t snapshot': 'getTypeFilter',
  'destroy -n': 'batchDestroy',
  holds: 'holdsCommand',
  bookmark: 'bookmarkCommand',
  'snapshot zferry-probe!@a zferry-probe!@b': 'multiSnapshot',
};

function binaryFromRecording(file: string): BinaryProbe {
  const { probes } = readZfsFixtureJson<{ probes: RecordedProbe[] }>(file);
  const features = {} as BinaryFeatures;
  const evidence = {} as Record<keyof BinaryFeatures, string>;
  for (const probe of probes) {
    const feature = FEATURE_BY_ARGS[probe.args.join(' ')];
    assert.ok(feature, `unexpected probe ${probe.args.join(' ')}`);
    const result: RunResult = {
      command: ['zfs', ...probe.args],
      exitCode: probe.exitCode,
      signal: undefined,
      stdout: probe.stdout,
      stderr: probe.stderr,
    };
    features[feature] = interpretProbe(feature, result);
    evidence[feature] = probe.stderr.split('\n')[0] ?? '';
  }
  assert.equal(Object.keys(features).length, Object.keys(FEATURE_BY_ARGS).length, 'every probe recorded');
  return { features, evidence };
}

describe('binary probes on recorded outputs', () => {
  test('OpenZFS 2.1 accepts every probed option', () => {
    const { features } = binaryFromRecording('openzfs/probes.json');
    for (const [name, on] of Object.entries(features)) assert.equal(on, true, name);
  });

  test('zfs-fuse 0.7 accepts only recv -u', () => {
    const { features } = binaryFromRecording('zfs-fuse/probes.json');
    const on = Object.entries(features)
      .filter(([, value]) => value)
      .map(([name]) => name);
    assert.deepEqual(on, ['receiveUnmounted']);
  });
});

describe('combineCapabilities', () => {
  test('OpenZFS binary + feature-flag pool: everything on, no reasons', () => {
    const caps = combineCapabilities(binaryFromRecording('openzfs/probes.json'), poolProbeFromOutput('tank', readZfsFixture('openzfs/zpool-get-all.txt')));
    assert.deepEqual(caps.reasons, {});
    assert.equal(caps.bookmarks, true);
    assert.equal(caps.resumable, true);
    assert.equal(caps.batchDestroy, true);
    assert.equal(caps.holds, true);
    assert.equal(caps.receiveProperties, true);
    assert.equal(caps.multiSnapshot, true);
    assert.equal(caps.sendSizeEstimate, true);
  });

  test('OpenZFS binary + pool with features disabled: bookmarks and resume off, with reasons', () => {
    const caps = combineCapabilities(
      binaryFromRecording('openzfs/probes.json'),
      poolProbeFromOutput('old', readZfsFixture('openzfs/zpool-get-H-features-disabled.txt')),
    );
    assert.equal(caps.bookmarks, false);
    assert.match(caps.reasons.bookmarks ?? '', /feature@bookmarks is disabled/);
    assert.equal(caps.resumable, false);
    assert.match(caps.reasons.resumable ?? '', /feature@extensible_dataset is disabled/);
    assert.equal(caps.sendCompressed, true);
    assert.equal(caps.batchDestroy, true);
  });

  test('zfs-fuse binary + pool v23: the documented gaps, each with a reason', () => {
    const caps = combineCapabilities(binaryFromRecording('zfs-fuse/probes.json'), poolProbeFromOutput('tank', readZfsFixture('zfs-fuse/zpool-get-all.txt')));
    const off = Object.entries(caps)
      .filter(([key, value]) => key !== 'reasons' && value === false)
      .map(([key]) => key)
      .sort();
    assert.deepEqual(off, [
      'batchDestroy',
      'bookmarks',
      'getTypeFilter',
      'holds',
      'listParsable',
      'multiSnapshot',
      'receiveProperties',
      'resumable',
      'sendCompressed',
      'sendEmbedded',
      'sendLargeBlocks',
      'sendRaw',
      'sendSizeEstimate',
    ]);
    assert.equal(caps.receiveUnmounted, true);
    for (const key of off) assert.ok((caps.reasons as Record<string, string>)[key], `reason for ${key}`);
    assert.match(caps.reasons.bookmarks ?? '', /legacy version 23/);
    assert.match(caps.reasons.sendCompressed ?? '', /invalid option 'c'/);
  });
});

describe('pool probe', () => {
  test("reads the pool's guid, which tells pools apart whatever their names", () => {
    assert.equal(poolProbeFromOutput('tank', readZfsFixture('zfs-fuse/zpool-get-all.txt')).guid, '1381653697329687274');
    assert.equal(poolProbeFromOutput('tank', readZfsFixture('openzfs/zpool-get-all.txt')).guid, '11784534939282836343');
    assert.equal(poolProbeFromOutput('old', readZfsFixture('openzfs/zpool-get-H-features-disabled.txt')).guid, '11784534939282836343');
  });

  test('no guid when the output has none (never a guess)', () => {
    assert.equal(poolProbeFromOutput('tank', 'NAME  PROPERTY  VALUE  SOURCE\ntank  version  23  default\n').guid, undefined);
    assert.equal(poolProbeFromOutput('tank', 'NAME  PROPERTY  VALUE  SOURCE\ntank  guid  -  default\n').guid, undefined);
  });
});
