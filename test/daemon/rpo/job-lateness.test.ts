/**
 * A job's rpo on a fake clock, with real hook processes: the timer alone (no invocation) finds
 * the filesystem late, the on_late hook runs once with its variables, not again while it stays
 * late, once on recovery, once on the next breach; a stopped job checks no more.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { HookConfig } from '../../../config/types.js';
import { JobLateness, checkEveryMs, onLateHooks } from '../../../daemon/rpo/job-lateness.js';
import { pushToSink } from '../../helpers/daemon-config.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const position = { file: '/test/zferry.yml', line: 1, column: 1 };

describe('JobLateness', () => {
  let dir = '';
  let hook: HookConfig;
  let record = '';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-rpo-'));
    record = path.join(dir, 'late.log');
    const script = path.join(dir, 'on-late.sh');
    await writeFile(
      script,
      `#!/bin/sh\necho "$ZFERRY_HOOKTYPE|$ZFERRY_JOB|$ZFERRY_FS|$ZFERRY_LATE_STATE|$ZFERRY_RPO_SECONDS|$ZFERRY_NEWEST_AGE_SECONDS" >> ${record}\n`,
    );
    await chmod(script, 0o755);
    hook = { type: 'command', path: script, args: [], timeoutMs: 10_000, errIsFatal: false, when: ['on_late'], position };
  });

  after(() => rm(dir, { recursive: true, force: true }));

  const lines = async (): Promise<string[]> => (await readFile(record, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');

  test('the timer finds it late; the hook runs once per breach and once per recovery', async () => {
    const rpo = { maxAgeMs: 60_000, onLate: [hook] };
    const job = pushToSink('laptop', { 'pool/a': true }, 'backups', 'laptop', { rpo });
    const clock = new FakeClock(10_000_000);
    let newestAt = clock.now();
    const lateness = new JobLateness({ job, rpo, logger: pino({ level: 'silent' }), clock, newest: () => [{ source: 'pool/a', newestAt }] });
    lateness.begin();
    assert.equal(checkEveryMs(rpo), 15_000);

    clock.advance(60_000);
    await lateness.settled();
    assert.deepEqual(await lines(), [], 'exactly the rpo old: not late');
    clock.advance(15_000);
    await lateness.settled();
    assert.deepEqual(await lines(), ['on_late|laptop|pool/a|late|60|75']);
    assert.equal(lateness.tracker.lateCount, 1);

    clock.advance(10 * 60_000);
    await lateness.settled();
    assert.equal((await lines()).length, 1, 'no second hook while it stays late');

    newestAt = clock.now() - 5_000;
    lateness.evaluate();
    await lateness.settled();
    assert.deepEqual((await lines()).slice(1), ['on_late|laptop|pool/a|recovered|60|5']);

    clock.advance(2 * 60_000);
    await lateness.settled();
    const again = (await lines()).slice(2);
    assert.equal(again.length, 1, 'a new breach runs the hook again, once');
    assert.match(again[0] ?? '', /^on_late\|laptop\|pool\/a\|late\|60\|6\d$/);

    lateness.stop();
    assert.equal(clock.pending, 0, 'a stopped job checks no more');
  });

  test('on_late hooks are those of the rpo (config/ resolved `hooks` with when on_late into them), each run at on_late', () => {
    const alsoLate: HookConfig = { ...hook, path: '/bin/echo', when: ['on_late', 'post_replication'] };
    assert.deepEqual(
      onLateHooks({ maxAgeMs: 60_000, onLate: [hook, alsoLate] }).map((h) => [h.path, h.when]),
      [
        [hook.path, ['on_late']],
        ['/bin/echo', ['on_late']],
      ],
    );
  });
});
