import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseHolds,
  parseNameList,
  parseProperties,
  parseVersions,
  parseZpoolProperties,
  valueOrUndefined,
  parseSendSize,
  parseVersionTree,
  parseVersionsByFilesystem,
  parseFilesystemProperties,
} from '../../../replication/zfs/parse.js';
import { ZfsUnknownError } from '../../../replication/zfs/errors.js';
import { readZfsFixture } from '../../helpers/zfs-fixtures.js';

describe('parseVersions', () => {
  test('OpenZFS 2.x: snapshots and bookmarks, exact guids, sorted by createtxg', () => {
    const versions = parseVersions(readZfsFixture('openzfs/zfs-get-versions.txt'), 'tank/data');
    assert.deepEqual(
      versions.map((v) => [v.type, v.name, v.guid, v.createtxg]),
      [
        ['bookmark', 'zferry_20231231_234500', '3390118512009815731', 977],
        ['snapshot', 'zferry_20240101_000000', '10028178639838894658', 1052],
        // A bookmark made from a snapshot shares its guid and createtxg; the snapshot sorts first.
        ['snapshot', 'zferry_20240101_001500', '8578451848945478428', 1183],
        ['bookmark', 'zferry_cursor_job1_backup', '8578451848945478428', 1183],
        ['snapshot', 'manual before upgrade', '17984421327305712467', 1390],
      ],
    );
    const first = versions[1];
    assert.deepEqual(first, {
      type: 'snapshot',
      filesystem: 'tank/data',
      name: 'zferry_20240101_000000',
      fullName: 'tank/data@zferry_20240101_000000',
      guid: '10028178639838894658',
      createtxg: 1052,
      creation: 1704067200,
    });
    // 10028178639838894658 > 2^53: a number would have rounded it.
    assert.ok(BigInt(first?.guid ?? '0') > BigInt(Number.MAX_SAFE_INTEGER));
    assert.equal(versions[3]?.fullName, 'tank/data#zferry_cursor_job1_backup');
  });

  test('type filter', () => {
    const snapshots = parseVersions(readZfsFixture('openzfs/zfs-get-versions.txt'), 'tank/data', ['snapshot']);
    assert.deepEqual(
      snapshots.map((v) => v.name),
      ['zferry_20240101_000000', 'zferry_20240101_001500', 'manual before upgrade'],
    );
    const bookmarks = parseVersions(readZfsFixture('openzfs/zfs-get-versions.txt'), 'tank/data', ['bookmark']);
    assert.equal(bookmarks.length, 2);
  });

  test('zfs-fuse: -d 1 without -t also returns the filesystem and its children; they are skipped', () => {
    const versions = parseVersions(readZfsFixture('zfs-fuse/zfs-get-versions.txt'), 'tank/data');
    assert.deepEqual(
      versions.map((v) => [v.fullName, v.guid, v.createtxg]),
      [
        ['tank/data@zferry_20240101_000000', '10028178639838894658', 15],
        ['tank/data@zferry_20240101_001500', '8578451848945478428', 20],
      ],
    );
  });

  test('does not confuse a sibling whose name extends the filesystem name', () => {
    const out = 'tank/data2@s\tguid\t1\ntank/data2@s\tcreatetxg\t2\ntank/data2@s\tcreation\t3\n';
    assert.deepEqual(parseVersions(out, 'tank/data'), []);
  });

  test('empty output is no versions', () => {
    assert.deepEqual(parseVersions('', 'tank/data'), []);
  });

  test('refuses unparsable numbers (e.g. a human-readable guid)', () => {
    assert.throws(() => parseVersions('tank/data@s\tguid\t13.6E\n', 'tank/data'), ZfsUnknownError);
    assert.throws(() => parseVersions('tank/data@s\tcreatetxg\tx\n', 'tank/data'), ZfsUnknownError);
    assert.throws(() => parseVersions('tank/data@s\tguid\n', 'tank/data'), ZfsUnknownError);
    assert.throws(() => parseVersions('tank/data@s\tguid\t1\t-\textra\n', 'tank/data'), ZfsUnknownError);
    assert.throws(() => parseVersions('tank/data@s\tguid\t1\n', 'tank/data'), /missing/);
  });
});

describe('parseProperties', () => {
  test('value and source, including sources with spaces', () => {
    const out = 'tank/a\tguid\t13333236233342469624\t-\ntank/a\tatime\toff\tinherited from tank\ntank/a\tcom.x:y\t-\t-\n';
    assert.deepEqual(parseProperties(out, 'tank/a'), {
      guid: { value: '13333236233342469624', source: '-' },
      atime: { value: 'off', source: 'inherited from tank' },
      'com.x:y': { value: '-', source: '-' },
    });
  });

  test('a value containing a tab survives', () => {
    assert.deepEqual(parseProperties('tank/a\tcom.x:y\ta\tb\tlocal\n', 'tank/a'), {
      'com.x:y': { value: 'a\tb', source: 'local' },
    });
  });

  test('OpenZFS receive_resume_token', () => {
    const props = parseProperties(readZfsFixture('openzfs/zfs-get-resume-token.txt'), 'tank/backup/data');
    const token = valueOrUndefined(props['receive_resume_token']?.value);
    assert.match(token ?? '', /^1-[0-9a-f]+-f8-789c[0-9a-f]+$/);
    const none = parseProperties(readZfsFixture('openzfs/zfs-get-no-resume-token.txt'), 'tank/backup/other');
    assert.equal(valueOrUndefined(none['receive_resume_token']?.value), undefined);
  });
});

describe('parseZpoolProperties', () => {
  test('zfs-fuse table (no -H): legacy version, no feature flags', () => {
    const props = parseZpoolProperties(readZfsFixture('zfs-fuse/zpool-get-all.txt'));
    assert.equal(props.get('version'), '23');
    assert.equal(props.get('cachefile'), 'none');
    assert.equal(
      [...props.keys()].some((k) => k.startsWith('feature@')),
      false,
    );
  });

  test('OpenZFS table: values with spaces and feature@ lines', () => {
    const props = parseZpoolProperties(readZfsFixture('openzfs/zpool-get-all.txt'));
    assert.equal(props.get('version'), '-');
    assert.equal(props.get('comment'), 'backup pool, rack 4');
    assert.equal(props.get('feature@bookmarks'), 'enabled');
    assert.equal(props.get('feature@extensible_dataset'), 'active');
  });

  test('OpenZFS -H -o property,value and -H with all columns', () => {
    const two = parseZpoolProperties(readZfsFixture('openzfs/zpool-get-H-property-value.txt'));
    assert.equal(two.get('feature@large_blocks'), 'enabled');
    assert.equal(two.get('comment'), 'backup pool, rack 4');
    const four = parseZpoolProperties(readZfsFixture('openzfs/zpool-get-H-features-disabled.txt'));
    assert.equal(four.get('feature@bookmarks'), 'disabled');
    assert.equal(four.get('feature@lz4_compress'), 'enabled');
  });
});

describe('small parsers', () => {
  test('OpenZFS zfs holds -H', () => {
    assert.deepEqual(parseHolds(readZfsFixture('openzfs/zfs-holds.txt'), 'tank/data@zferry_20240101_001500'), ['keep-for-audit', 'zferry_job1_backup']);
    assert.deepEqual(parseHolds('', 'tank/data@s'), []);
  });

  test('name lists', () => {
    assert.deepEqual(parseNameList('tank\ntank/a\n\ntank/a b\n'), ['tank', 'tank/a', 'tank/a b']);
  });
});

describe('zfs send -n -P output', () => {
  test('the size row, full and incremental', () => {
    assert.equal(parseSendSize('full\ttank/a@s1\t10548720\nsize\t10548720\n'), 10548720);
    assert.equal(parseSendSize('incremental\ts1\ttank/a@s2\t2107568\nsize\t2107568\n'), 2107568);
  });
  test('no size row, or not a number: unknown', () => {
    assert.equal(parseSendSize(''), undefined);
    assert.equal(parseSendSize('full\ttank/a@s1\t10548720\n'), undefined);
    assert.equal(parseSendSize('size\t-\n'), undefined);
  });
});

describe('a tree listing with filesystem properties (source column)', () => {
  // `zfs get -H -p -o name,property,value,source -r guid,createtxg,creation,zferry:cursor.t tank/a`
  const rows = [
    'tank/a\tguid\t11\t-',
    'tank/a\tcreatetxg\t1\t-',
    'tank/a\tcreation\t1700000000\t-',
    'tank/a\tzferry:cursor.t\ts2\tlocal',
    'tank/a@s1\tguid\t101\t-',
    'tank/a@s1\tcreatetxg\t10\t-',
    'tank/a@s1\tcreation\t1700000010\t-',
    'tank/a@s1\tzferry:cursor.t\ts2\tinherited from tank/a',
    'tank/a/b\tguid\t12\t-',
    'tank/a/b\tcreatetxg\t2\t-',
    'tank/a/b\tcreation\t1700000001\t-',
    'tank/a/b\tzferry:cursor.t\ts2\tinherited from tank/a',
  ].join('\n');

  test('the tree parser takes the rows as they are; filesystem properties come with their source', () => {
    const tree = parseVersionTree(rows, 'tank/a');
    const filesystemProperties = parseFilesystemProperties(rows, ['zferry:cursor.t']);
    assert.deepEqual([...tree.keys()], ['tank/a', 'tank/a/b'], 'a filesystem without snapshots is still listed');
    assert.deepEqual(
      tree.get('tank/a')?.map((v) => [v.name, v.guid, v.createtxg]),
      [['s1', '101', 10]],
    );
    assert.deepEqual(tree.get('tank/a/b'), []);
    assert.deepEqual(filesystemProperties.get('tank/a'), { 'zferry:cursor.t': { value: 's2', source: 'local' } });
    assert.deepEqual(filesystemProperties.get('tank/a/b'), { 'zferry:cursor.t': { value: 's2', source: 'inherited from tank/a' } });
    assert.equal(filesystemProperties.has('tank/a@s1'), false, 'snapshot rows of the property are not kept');
  });

  test('versions by filesystem: every filesystem in the answer, each with only its own versions', () => {
    // `zfs get -H -p -o name,property,value guid,createtxg,creation` of snapshots in several filesystems.
    const lookup = [
      'tank/a@s1\tguid\t101',
      'tank/a@s1\tcreatetxg\t10',
      'tank/a@s1\tcreation\t1700000010',
      'tank/ab@s1\tguid\t201',
      'tank/ab@s1\tcreatetxg\t11',
      'tank/ab@s1\tcreation\t1700000011',
      'tank/a/b@s2\tguid\t301',
      'tank/a/b@s2\tcreatetxg\t12',
      'tank/a/b@s2\tcreation\t1700000012',
    ].join('\n');
    const byFilesystem = parseVersionsByFilesystem(lookup, ['snapshot']);
    assert.deepEqual([...byFilesystem.keys()], ['tank/a', 'tank/ab', 'tank/a/b']);
    assert.deepEqual(
      [...byFilesystem].map(([fs, versions]) => [fs, versions.map((v) => [v.fullName, v.guid])]),
      [
        ['tank/a', [['tank/a@s1', '101']]],
        ['tank/ab', [['tank/ab@s1', '201']]],
        ['tank/a/b', [['tank/a/b@s2', '301']]],
      ],
    );
    assert.deepEqual([...parseVersionsByFilesystem(rows).keys()], ['tank/a', 'tank/a/b'], 'a filesystem row alone still makes its entry');
  });

  test('properties not asked for are ignored; a row without a source column is refused', () => {
    assert.equal(parseFilesystemProperties(rows, []).size, 0);
    assert.throws(() => parseFilesystemProperties('tank/a\tguid\t11', []), ZfsUnknownError);
  });
});
