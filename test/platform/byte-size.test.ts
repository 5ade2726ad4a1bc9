// Sizes as `--bwlimit` takes them: bare letters and iB forms are 1024-based (syncoid's, pv's),
// kB/MB/GB 1000-based; anything else is refused with the text it got.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidByteSizeError, parseByteSize } from '../../platform/byte-size.js';

test('sizes with and without units', () => {
  const cases: Array<[string, number]> = [
    ['1048576', 1048576],
    ['512b', 512],
    ['64k', 64 * 1024],
    ['64K', 64 * 1024],
    ['50M', 50 * 2 ** 20],
    ['50MiB', 50 * 2 ** 20],
    ['50 MiB', 50 * 2 ** 20],
    ['50mib/s', 50 * 2 ** 20],
    ['1.5G', 1.5 * 2 ** 30],
    ['2T', 2 * 2 ** 40],
    ['500MB', 500e6],
    ['500 kB', 500e3],
    ['1GB/s', 1e9],
  ];
  for (const [text, bytes] of cases) assert.equal(parseByteSize(text), bytes, text);
});

test('anything else is refused, naming what it got', () => {
  for (const text of ['', 'M', '50X', '50 MiBs', '-5M', '5..0M', '1e3', '50 Mi', '99999999999999999999T']) {
    assert.throws(
      () => parseByteSize(text),
      (error: unknown) => error instanceof InvalidByteSizeError && error.message.includes(JSON.stringify(text)),
      text,
    );
  }
});
