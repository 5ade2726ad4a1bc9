import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FILESYSTEM_NAME_PATTERN,
  MAX_NAME_LENGTH,
  SHORT_NAME_PATTERN,
  compareFilesystemNames,
  filesystemNameProblem,
  isValidName,
  isValidShortName,
  isAtOrBelow,
  parentOf,
  parseDatasetName,
  poolOf,
  validateBookmarkName,
  validateFilesystemName,
  validateGuid,
  validateHoldTag,
  validatePropertyName,
  validateResumeToken,
  validateShortName,
  validateSnapshotName,
  validateUserPropertyName,
  validateVersionName,
} from '../../../replication/zfs/names.js';
import { InvalidNameError } from '../../../replication/zfs/errors.js';

function rejects(fn: () => unknown, reason?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidNameError, `expected InvalidNameError, got ${String(error)}`);
    assert.equal(error.code, 'ZFS_INVALID_NAME');
    if (reason) assert.match(error.reason, reason);
    return true;
  });
}

describe('dataset names', () => {
  test('accepts ordinary filesystem, snapshot and bookmark names', () => {
    assert.equal(validateFilesystemName('tank'), 'tank');
    assert.equal(validateFilesystemName('tank/a/b-c_d.e:f'), 'tank/a/b-c_d.e:f');
    assert.equal(validateFilesystemName('tank/with space'), 'tank/with space');
    assert.deepEqual(validateSnapshotName('tank/a@zferry_2024-01-01T00:00'), {
      filesystem: 'tank/a',
      name: 'zferry_2024-01-01T00:00',
    });
    assert.deepEqual(validateBookmarkName('tank/a#cursor'), { filesystem: 'tank/a', name: 'cursor' });
    assert.deepEqual(validateVersionName('tank/a#cursor'), { type: 'bookmark', filesystem: 'tank/a', name: 'cursor' });
    assert.deepEqual(parseDatasetName('tank/a@s'), { kind: 'snapshot', filesystem: 'tank/a', version: 's' });
  });

  test('refuses option-like and empty names', () => {
    rejects(() => validateFilesystemName(''), /empty/);
    rejects(() => validateFilesystemName('-rf'), /option/);
    rejects(() => validateFilesystemName('-'), /option/);
    rejects(() => validateSnapshotName('-o@x'), /option/);
    rejects(() => validateShortName('-x'), /option/);
  });

  test('refuses walking components and empty components', () => {
    rejects(() => validateFilesystemName('tank/../etc'), /"\.\."/);
    rejects(() => validateFilesystemName('tank/./a'), /"\."/);
    rejects(() => validateFilesystemName('tank/a/..'), /"\.\."/);
    rejects(() => validateFilesystemName('tank//a'), /empty/);
    rejects(() => validateFilesystemName('tank/a/'), /empty/);
    rejects(() => validateFilesystemName('/tank'), /empty/);
    rejects(() => validateSnapshotName('tank/a@..'), /"\.\."/);
    rejects(() => validateSnapshotName('tank/a@.'), /"\."/);
  });

  test('refuses control characters and whitespace other than space', () => {
    rejects(() => validateFilesystemName('tank/a\nb'), /control/);
    rejects(() => validateFilesystemName('tank/a\tb'), /control/);
    rejects(() => validateFilesystemName('tank/a\0b'), /control/);
    rejects(() => validateFilesystemName('tank/a\x7fb'), /control/);
    rejects(() => validateFilesystemName('tank/a\u00a0b'), /whitespace/);
    rejects(() => validateFilesystemName('tank/a\u2028b'), /whitespace/);
    rejects(() => validateSnapshotName('tank/a@s\r'), /control/);
  });

  test('refuses characters outside the ZFS set', () => {
    for (const bad of ['tank/a$b', 'tank/a;b', 'tank/a`b', 'tank/a|b', 'tank/é', 'tank/a*', 'tank/a%recv', "tank/a'b"]) {
      rejects(() => validateFilesystemName(bad), /invalid character/);
    }
  });

  test('enforces where @ and # may appear', () => {
    rejects(() => validateFilesystemName('tank/a@s'), /expected a filesystem/);
    rejects(() => validateFilesystemName('tank/a#b'), /expected a filesystem/);
    rejects(() => validateSnapshotName('tank/a'), /expected a snapshot/);
    rejects(() => validateSnapshotName('tank/a#b'), /expected a snapshot/);
    rejects(() => validateSnapshotName('tank/a@'), /empty snapshot/);
    rejects(() => validateSnapshotName('@s'), /nothing before/);
    rejects(() => validateSnapshotName('tank/a@b@c'), /more than one/);
    rejects(() => validateSnapshotName('tank/a@b/c'), /"\/"/);
    rejects(() => validateBookmarkName('tank/a#b#c'), /more than one/);
    rejects(() => parseDatasetName('tank/a@b#c'), /both/);
    rejects(() => validateShortName('a@b'), /invalid character/);
    rejects(() => validateShortName('a/b'), /invalid character/);
  });

  test('pool names begin with a letter', () => {
    rejects(() => validateFilesystemName('1tank/a'), /letter/);
    rejects(() => validateFilesystemName('_tank'), /letter/);
    assert.equal(validateFilesystemName('t1'), 't1');
  });

  test('length limit is 255 bytes', () => {
    const name = `tank/${'a'.repeat(MAX_NAME_LENGTH - 5)}`;
    assert.equal(name.length, 255);
    assert.equal(validateFilesystemName(name), name);
    rejects(() => validateFilesystemName(`${name}a`), /longer than 255/);
    rejects(() => validateSnapshotName(`${name}@s`), /longer than 255/);
  });

  test('isValidName is the non-throwing form', () => {
    assert.equal(isValidName('tank/a'), true);
    assert.equal(isValidName('tank/a', 'snapshot'), false);
    assert.equal(isValidName('tank/a@s', 'snapshot'), true);
    assert.equal(isValidName('-x'), false);
  });
});

describe('isAtOrBelow', () => {
  test('compares component by component', () => {
    assert.equal(isAtOrBelow('tank/a', 'tank/a'), true);
    assert.equal(isAtOrBelow('tank/a/b', 'tank/a'), true);
    assert.equal(isAtOrBelow('tank/a/b/c@s', 'tank/a'), true);
    assert.equal(isAtOrBelow('tank/a@s', 'tank/a'), true);
    assert.equal(isAtOrBelow('tank/a#m', 'tank/a'), true);
    assert.equal(isAtOrBelow('tank/ab', 'tank/a'), false);
    assert.equal(isAtOrBelow('tank/ab/c', 'tank/a'), false);
    assert.equal(isAtOrBelow('tank', 'tank/a'), false);
    assert.equal(isAtOrBelow('tank2/a', 'tank'), false);
    assert.equal(isAtOrBelow('tank/x', 'tank'), true);
  });

  test('is false for invalid names on either side', () => {
    assert.equal(isAtOrBelow('tank/a/../b', 'tank/a'), false);
    assert.equal(isAtOrBelow('tank/a/b\n', 'tank/a'), false);
    assert.equal(isAtOrBelow('tank/a', 'tank/a@s'), false);
    assert.equal(isAtOrBelow('-tank/a', 'tank/a'), false);
  });
});

describe('name helpers', () => {
  test('poolOf and parentOf', () => {
    assert.equal(poolOf('tank/a/b@s'), 'tank');
    assert.equal(poolOf('tank'), 'tank');
    assert.equal(parentOf('tank/a/b'), 'tank/a');
    assert.equal(parentOf('tank'), undefined);
  });

  test('property names', () => {
    assert.equal(validatePropertyName('mountpoint'), 'mountpoint');
    assert.equal(validatePropertyName('userquota@bob'), 'userquota@bob');
    assert.equal(validateUserPropertyName('com.zferry:job'), 'com.zferry:job');
    rejects(() => validatePropertyName('a,b'), /invalid property/);
    rejects(() => validatePropertyName('-o'), /invalid property/);
    rejects(() => validatePropertyName(''), /empty/);
    rejects(() => validateUserPropertyName('nocolon'), /":"/);
    rejects(() => validateUserPropertyName('Com.zferry:Job'), /\[a-z0-9_:\.\+-\]/);
  });

  test('hold tags', () => {
    assert.equal(validateHoldTag('zferry_job1/backup@host'), 'zferry_job1/backup@host');
    rejects(() => validateHoldTag('-r'), /starts with/);
    rejects(() => validateHoldTag('a b'), /invalid character/);
    rejects(() => validateHoldTag(''), /empty/);
  });

  test('guids', () => {
    assert.equal(validateGuid('18446744073709551615'), '18446744073709551615');
    assert.equal(validateGuid('0'), '0');
    rejects(() => validateGuid('18446744073709551616'), /64-bit/);
    rejects(() => validateGuid('-1'), /64-bit/);
    rejects(() => validateGuid('13.6E'), /64-bit/);
    rejects(() => validateGuid(''), /64-bit/);
  });

  test('resume tokens', () => {
    const token = '1-105cb27747-f8-789c636064000310a5c1c0';
    assert.equal(validateResumeToken(token), token);
    rejects(() => validateResumeToken('-t'), /resume_token/);
    rejects(() => validateResumeToken('1-zz-f8-00'), /resume_token/);
    rejects(() => validateResumeToken('1-ab-f8-00 ; rm'), /resume_token/);
  });
});

/** Every string of up to `length` characters over `alphabet`. */
function allStrings(alphabet: readonly string[], length: number): string[] {
  let level = [''];
  const all = [''];
  for (let i = 0; i < length; i += 1) {
    level = level.flatMap((prefix) => alphabet.map((ch) => prefix + ch));
    all.push(...level);
  }
  return all;
}

describe('one set of rules', () => {
  // Every kind of character the rules treat apart: letters, digits, the other allowed ones, the
  // separators, and refused ones.
  const names = allStrings(['a', '1', '_', '.', '-', ' ', '/', '@', '#', ';', '\n'], 4).map((tail) => `t${tail}`);
  const shorts = allStrings(['a', '1', '.', '-', ' ', '/', '@', '\t'], 3);

  /** The reason a name is refused with, or undefined when it is accepted. */
  function refusal(check: () => unknown): string | undefined {
    try {
      check();
      return undefined;
    } catch (error) {
      assert.ok(error instanceof InvalidNameError);
      return error.reason;
    }
  }

  test('every name the patterns refuse is refused with the rule it breaks, and only those', () => {
    for (const name of names) {
      const reason = refusal(() => parseDatasetName(name));
      assert.equal(reason === undefined, isValidName(name), JSON.stringify(name));
      // "not a valid ..." is what a refusal says when no worded check found the broken rule.
      assert.doesNotMatch(reason ?? '', /^not a valid/, JSON.stringify(name));
      assert.equal(filesystemNameProblem(name) === undefined, FILESYSTEM_NAME_PATTERN.test(name), JSON.stringify(name));
    }
    for (const short of shorts) {
      const reason = refusal(() => validateShortName(short));
      assert.equal(reason === undefined, isValidShortName(short), JSON.stringify(short));
      assert.equal(reason === undefined, SHORT_NAME_PATTERN.test(short), JSON.stringify(short));
      assert.doesNotMatch(reason ?? '', /^not a valid/, JSON.stringify(short));
    }
  });

  test('no component below the pool, nor snapshot name, begins with "-" or a space', () => {
    rejects(() => validateFilesystemName('tank/-R'), /starts with "-"/);
    rejects(() => validateFilesystemName('tank/ a'), /starts with " "/);
    rejects(() => validateSnapshotName('tank/a@-R'), /starts with "-"/);
    rejects(() => validateSnapshotName('tank/a@ s'), /starts with " "/);
    rejects(() => validateShortName(' s'), /starts with " "/);
    assert.equal(validateFilesystemName('tank/a-/b c'), 'tank/a-/b c');
    assert.equal(isValidShortName('s-1 x'), true);
  });

  test('a filesystem name passes or is refused with the reason', () => {
    assert.equal(filesystemNameProblem('tank/a b/c'), undefined);
    assert.match(filesystemNameProblem('1tank/a') ?? '', /does not start with a letter/);
    assert.match(filesystemNameProblem('tank/a@s') ?? '', /expected a filesystem name, got a snapshot name/);
  });

  test('short names as the cursor property holds them', () => {
    for (const short of ['zferry_20261123T105300Z', 'a b', '.x', '1']) assert.equal(isValidShortName(short), true, short);
    for (const short of ['', '.', '..', '-x', ' x', 'a,b', 'a@b', 'a/b', 'x'.repeat(MAX_NAME_LENGTH + 1)]) {
      assert.equal(isValidShortName(short), false, short);
    }
  });

  test('compareFilesystemNames puts parents before their children', () => {
    assert.deepEqual(['t/b', 't/a/x', 't', 't/a', 't/a b'].sort(compareFilesystemNames), ['t', 't/a', 't/a/x', 't/a b', 't/b']);
  });
});
