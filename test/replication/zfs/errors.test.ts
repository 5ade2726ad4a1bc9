import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyZfsError, normalizeStderr, ZfsError, ZfsUnknownError, InvalidStreamError, IncrementalMismatchError } from '../../../replication/zfs/errors.js';
import { readZfsFixtureJson, type RecordedStderr } from '../../helpers/zfs-fixtures.js';

const corpus = readZfsFixtureJson<{ cases: RecordedStderr[] }>('stderr.json').cases;

describe('classifyZfsError on recorded stderr', () => {
  for (const sample of corpus) {
    test(`${sample.source}: ${sample.command} -> ${sample.code}`, () => {
      const command = sample.command.split(' ');
      const error = classifyZfsError({ stderr: sample.stderr, exitCode: sample.exitCode, command });
      assert.ok(error instanceof ZfsError);
      assert.equal(error.code, sample.code, normalizeStderr(sample.stderr));
      assert.equal(error.stderr, sample.stderr, 'keeps the full stderr');
      assert.equal(error.exitCode, sample.exitCode);
      assert.deepEqual(error.command, command);
      assert.ok(error.message.includes(normalizeStderr(sample.stderr).slice(0, 40)));
    });
  }

  test('the corpus covers every typed error', () => {
    const codes = new Set(corpus.map((c) => c.code));
    for (const code of [
      'ZFS_DATASET_NOT_FOUND',
      'ZFS_DESTINATION_EXISTS',
      'ZFS_TARGET_MODIFIED',
      'ZFS_INCREMENTAL_MISMATCH',
      'ZFS_INCREMENTAL_SOURCE_MISSING',
      'ZFS_INVALID_STREAM',
      'ZFS_OUT_OF_SPACE',
      'ZFS_DATASET_BUSY',
      'ZFS_PERMISSION_DENIED',
      'ZFS_DAEMON_NOT_RUNNING',
      'ZFS_HOLD_EXISTS',
      'ZFS_UNKNOWN',
    ]) {
      assert.ok(codes.has(code), code);
    }
  });
});

describe('classifyZfsError details', () => {
  test('messages wrapped over two lines match once whitespace is normalised', () => {
    const error = classifyZfsError({
      stderr: 'cannot receive incremental stream: most recent snapshot of tank/x does not\n   match\tincremental source\n',
      exitCode: 1,
      command: ['zfs', 'receive', 'tank/x'],
    });
    assert.ok(error instanceof IncrementalMismatchError);
    assert.match(error.message, /does not match incremental source/);
  });

  test('a resume token printed by OpenZFS is attached to the error', () => {
    const sample = corpus.find((c) => c.stderr.includes('zfs send -t'));
    assert.ok(sample);
    const error = classifyZfsError({ stderr: sample.stderr, exitCode: 1, command: ['zfs', 'receive'] });
    assert.ok(error instanceof InvalidStreamError);
    assert.match(error.resumeToken ?? '', /^1-[0-9a-f]+-f8-789c/);
  });

  test('unknown stderr keeps everything and says how the command ended', () => {
    const error = classifyZfsError({ stderr: 'something new\nline two\n', exitCode: 7, command: ['zfs', 'frob'] });
    assert.ok(error instanceof ZfsUnknownError);
    assert.equal(error.code, 'ZFS_UNKNOWN');
    assert.equal(error.stderr, 'something new\nline two\n');
    assert.equal(error.exitCode, 7);
    assert.equal(error.message, 'zfs frob failed (exit 7): something new line two');
    const killed = classifyZfsError({ stderr: '', exitCode: undefined, command: ['zfs', 'send'], signal: 'SIGKILL' });
    assert.match(killed.message, /signal SIGKILL/);
  });

  test('errors carry name and code and are Errors', () => {
    const error = classifyZfsError({ stderr: "cannot open 'a': dataset does not exist", exitCode: 1, command: ['zfs'] });
    assert.equal(error.name, 'DatasetNotFoundError');
    assert.ok(error instanceof Error);
  });
});
