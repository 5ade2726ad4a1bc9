/**
 * send/receive against real ZFS: full, incremental, -I, guid verification, every receive
 * error provoked for real, and the refusals that happen before zfs runs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import {
  ZfsDriver,
  DatasetNotFoundError,
  DestinationExistsError,
  IncrementalMismatchError,
  IncrementalSourceMissingError,
  InvalidNameError,
  InvalidStreamError,
  TargetModifiedError,
  ZfsAbortedError,
  ZfsUnsupportedError,
  type ZfsError,
} from '../../../replication/zfs/index.js';
import { createDataset, datasetExists, getProperty, hashFile, listAll, listSnapshots, run, snapshot, usePool, writeFile, zfs } from '../../helpers/zfs-pool.js';
import { createZfsWrapper } from '../../helpers/zfs-wrappers.js';
import { LEVEL, memoryLogger } from '../../helpers/zfs-logger.js';

/**
 * After a refused receive the send must not hang: it either finished into the pipe buffers
 * already (small streams) or was stopped by the closed stream (an abort, never another error).
 */
async function assertSendStopped(send: { stream: Readable; done: Promise<void> }): Promise<void> {
  assert.equal(send.stream.destroyed, true, 'the receive owns and closes its input');
  const [outcome] = await Promise.allSettled([send.done]);
  if (outcome.status === 'rejected') assert.ok(outcome.reason instanceof ZfsAbortedError, String(outcome.reason));
}

/**
 * Every command that touched the pool only read (list/get); capability probes name no pool
 * dataset. Proves that no `zfs receive` ran against it.
 */
function assertOnlyReads(invocations: string[][], pool: string): void {
  const touching = invocations.filter((argv) => argv.some((arg) => arg === pool || arg.startsWith(`${pool}/`)));
  assert.ok(touching.length > 0, 'the driver inspected the target');
  for (const argv of touching) {
    assert.ok(argv[0] === 'get' || argv[0] === 'list', `unexpected zfs ${argv.join(' ')}`);
  }
}

/** Snapshot names and guids of every dataset in the pool: proves nothing else changed. */
async function poolState(pool: string): Promise<string> {
  const names = await listAll(pool);
  const guids = await Promise.all(names.map(async (name) => `${name}=${await getProperty(name, 'guid')}`));
  return guids.join('\n');
}

describe('send and receive (real zfs)', () => {
  const ctx = usePool({ sizeMiB: 256 });
  const driver = new ZfsDriver();

  /** A source filesystem with snapshots s1..s4, each with new data; guids by name. */
  async function source(rel: string): Promise<{ fs: string; guid: Record<string, string> }> {
    const fs = await createDataset(ctx.pool.dataset(rel));
    const guid: Record<string, string> = {};
    for (const name of ['s1', 's2', 's3', 's4']) {
      await writeFile(fs, `${name}.bin`, 256 * 1024);
      guid[name] = await snapshot(`${fs}@${name}`);
    }
    return { fs, guid };
  }

  /** A parent for targets that never mounts them. */
  async function backupParent(rel: string): Promise<string> {
    return createDataset(ctx.pool.dataset(rel), { properties: { mountpoint: 'none' } });
  }

  async function transfer(opts: Parameters<ZfsDriver['send']>[0], receive: Parameters<ZfsDriver['receive']>[0]) {
    const send = driver.send(opts);
    const [result] = await Promise.all([driver.receive(receive, send.stream), send.done]);
    return result;
  }

  test('a deferred check: the receive answers without a version, findReceivedSnapshots verifies later', async () => {
    const { fs, guid } = await source('sr-deferred');
    const parent = await backupParent('bk-deferred');
    const target = `${parent}/t`;
    const full = await transfer({ snapshot: `${fs}@s1` }, { target, snapshotName: 's1', expectedGuid: guid.s1 as string, deferVerification: true });
    assert.equal(full.version, undefined);
    const found = await driver.findReceivedSnapshots([`${target}@s1`, `${target}@nope`, `${parent}/missing@s1`]);
    assert.equal(found.get(`${target}@s1`)?.guid, guid.s1);
    assert.equal(found.get(`${target}@s1`)?.filesystem, target);
    assert.equal(found.has(`${target}@nope`), true);
    assert.equal(found.get(`${target}@nope`), undefined);
    assert.equal(found.get(`${parent}/missing@s1`), undefined);
    // A receive that fails is examined at once, deferred or not. (Its own error is asserted:
    // the sender's broken pipe may settle first, so the two are not raced in one Promise.all.)
    const send = driver.send({ snapshot: `${fs}@s2` });
    await assert.rejects(
      driver.receive({ target, snapshotName: 's2', expectedGuid: guid.s2 as string, deferVerification: true, targetChecked: true }, send.stream),
      (error: ZfsError) => error instanceof DestinationExistsError || /exists/.test(error.message),
    );
    await assertSendStopped(send);
  });

  test('full, incremental (-i) and intermediates (-I), verified by guid, data intact', async () => {
    const { fs, guid } = await source('sr1');
    const parent = await backupParent('bk1');
    const target = `${parent}/t`;

    const full = await transfer({ snapshot: `${fs}@s1` }, { target, snapshotName: 's1', expectedGuid: guid.s1 as string });
    assert.equal(full.version?.fullName, `${target}@s1`);
    assert.equal(full.version?.guid, guid.s1);
    assert.equal(full.resumeToken, undefined);
    assert.equal(await getProperty(target, 'mounted'), 'no', 'received unmounted by default');

    const inc = await transfer(
      { snapshot: `${fs}@s2`, from: `${fs}@s1` },
      { target, snapshotName: 's2', expectedGuid: guid.s2 as string, incrementalBase: { guid: guid.s1 as string } },
    );
    assert.equal(inc.version?.guid, guid.s2);

    const batch = await transfer(
      { snapshot: `${fs}@s4`, from: `${fs}@s2`, intermediates: true },
      { target, snapshotName: 's4', expectedGuid: guid.s4 as string, incrementalBase: { guid: guid.s2 as string } },
    );
    assert.equal(batch.version?.guid, guid.s4);
    assert.deepEqual(
      (await listSnapshots(target)).map((s) => [s.name, s.guid]),
      ['s1', 's2', 's3', 's4'].map((n) => [n, guid[n]]),
    );

    await zfs('set', `mountpoint=${ctx.pool.scratch('bk1-t')}`, target);
    assert.equal(await hashFile(target, 's3.bin'), await hashFile(fs, 's3.bin'));
  });

  test('size estimates: zfs send -n -P where zfs has it, else a full stream from the snapshot size', async () => {
    const fs = await createDataset(ctx.pool.dataset('est'));
    await writeFile(fs, 'big.bin', 8 * 1024 * 1024);
    await snapshot(`${fs}@a`);
    await writeFile(fs, 'more.bin', 2 * 1024 * 1024);
    await snapshot(`${fs}@b`);
    const streamBytes = async (opts: Parameters<ZfsDriver['send']>[0]): Promise<number> => {
      const send = driver.send(opts);
      let bytes = 0;
      for await (const chunk of send.stream) bytes += (chunk as Buffer).length;
      await send.done;
      return bytes;
    };
    const caps = await driver.capabilities(fs);
    const full = await driver.estimateSendSize({ snapshot: `${fs}@a` });
    const fullBytes = await streamBytes({ snapshot: `${fs}@a` });
    assert.ok(full !== undefined, 'a full stream always has an estimate');
    assert.equal(full.approximate, !caps.sendSizeEstimate);
    assert.ok(full.bytes > 0.8 * fullBytes && full.bytes < 1.25 * fullBytes, `estimate ${full.bytes} for a stream of ${fullBytes}`);

    const incremental = await driver.estimateSendSize({ snapshot: `${fs}@b`, from: `${fs}@a` });
    const incrementalBytes = await streamBytes({ snapshot: `${fs}@b`, from: `${fs}@a` });
    if (caps.sendSizeEstimate) {
      assert.ok(incremental !== undefined && !incremental.approximate);
      assert.ok(
        incremental.bytes > 0.8 * incrementalBytes && incremental.bytes < 1.25 * incrementalBytes,
        `estimate ${incremental.bytes} for ${incrementalBytes}`,
      );
    } else {
      assert.equal(incremental, undefined, 'without send -n -P an incremental has no estimate (the snapshot size says nothing about the delta)');
    }
    await assert.rejects(driver.estimateSendSize({ snapshot: '-oops@a' }), InvalidNameError);
  });

  test('guid checks asked for together share one zfs get, and each still gets its own answer', async () => {
    const { fs, guid } = await source('gc1');
    const wrapper = createZfsWrapper('recording');
    try {
      const counted = new ZfsDriver({ zfsBin: wrapper.bin });
      const names = ['s1', 's2', 's3', 's4', 'nope'].map((n) => `${fs}@${n}`);
      const answers = await Promise.all([...names, `${ctx.pool.name}/missing@s1`].map((n) => counted.getSnapshotVersion(n)));
      assert.deepEqual(
        answers.slice(0, 4).map((v) => v?.guid),
        ['s1', 's2', 's3', 's4'].map((n) => guid[n]),
      );
      assert.deepEqual(
        answers.slice(0, 4).map((v) => v?.fullName),
        names.slice(0, 4),
      );
      assert.equal(answers[4], undefined, 'a missing snapshot');
      assert.equal(answers[5], undefined, 'a missing filesystem');
      const gets = wrapper.invocations().filter((argv) => argv[0] === 'get');
      // The first goes alone; the other five share one, which fails on the missing ones, so those
      // five are asked one by one: 1 + 1 + 5. Without coalescing it would be 6, never fewer.
      assert.equal(gets.length, 7, gets.map((argv) => argv.join(' ')).join('\n'));
      assert.equal(gets[1]?.filter((arg) => arg.includes('@')).length, 5, 'five names in one zfs get');

      const before = wrapper.invocations().length;
      const present = await Promise.all(names.slice(0, 4).map((n) => counted.getSnapshotVersion(n)));
      assert.deepEqual(
        present.map((v) => v?.guid),
        ['s1', 's2', 's3', 's4'].map((n) => guid[n]),
      );
      assert.equal(wrapper.invocations().length - before, 2, 'four present snapshots: one alone, three together');
    } finally {
      wrapper.cleanup();
    }
  });

  test('a failed send ends its stream; only `done` tells (typed error, stderr kept)', async () => {
    const fs = await createDataset(ctx.pool.dataset('sr2'));
    await snapshot(`${fs}@s1`);
    const send = driver.send({ snapshot: `${fs}@missing` });
    const chunks: Buffer[] = [];
    for await (const chunk of send.stream) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).length, 0);
    await assert.rejects(send.done, (error: ZfsError) => {
      assert.ok(error instanceof DatasetNotFoundError, String(error));
      assert.match(error.stderr, /does not exist/);
      assert.equal(error.exitCode, 1);
      assert.equal(send.stderr, error.stderr);
      return true;
    });

    const inc = driver.send({ snapshot: `${fs}@s1`, from: `${fs}@nope` });
    inc.stream.resume();
    await assert.rejects(inc.done, IncrementalSourceMissingError);
  });

  test('destination exists: the receive fails typed, and the sender is stopped', async () => {
    const { fs, guid } = await source('sr3');
    const parent = await backupParent('bk3');
    await transfer({ snapshot: `${fs}@s1` }, { target: `${parent}/t`, snapshotName: 's1', expectedGuid: guid.s1 as string });

    const send = driver.send({ snapshot: `${fs}@s2` });
    await assert.rejects(driver.receive({ target: `${parent}/t`, snapshotName: 's2', expectedGuid: guid.s2 as string }, send.stream), DestinationExistsError);
    await assertSendStopped(send);
  });

  test('target modified since its most recent snapshot', async () => {
    const { fs, guid } = await source('sr4');
    const parent = await backupParent('bk4');
    const target = `${parent}/t`;
    await transfer({ snapshot: `${fs}@s1` }, { target, snapshotName: 's1', expectedGuid: guid.s1 as string });
    await zfs('set', `mountpoint=${ctx.pool.scratch('bk4-t')}`, target);
    await writeFile(target, 'local-change', 'written on the target');

    await assert.rejects(
      transfer(
        { snapshot: `${fs}@s2`, from: `${fs}@s1` },
        { target, snapshotName: 's2', expectedGuid: guid.s2 as string, incrementalBase: { guid: guid.s1 as string } },
      ),
      TargetModifiedError,
    );
    // With -F the receive rolls the change back.
    const forced = await transfer(
      { snapshot: `${fs}@s2`, from: `${fs}@s1` },
      { target, snapshotName: 's2', expectedGuid: guid.s2 as string, incrementalBase: { guid: guid.s1 as string }, force: true },
    );
    assert.equal(forced.version?.guid, guid.s2);
  });

  test('most recent snapshot does not match the incremental source', async () => {
    const { fs, guid } = await source('sr5');
    const parent = await backupParent('bk5');
    const target = `${parent}/t`;
    await transfer({ snapshot: `${fs}@s1` }, { target, snapshotName: 's1', expectedGuid: guid.s1 as string });
    await zfs('set', `mountpoint=${ctx.pool.scratch('bk5-t')}`, target);
    await writeFile(target, 'diverged', 'x');
    await snapshot(`${target}@local`);

    await assert.rejects(
      transfer(
        { snapshot: `${fs}@s2`, from: `${fs}@s1` },
        { target, snapshotName: 's2', expectedGuid: guid.s2 as string, incrementalBase: { guid: guid.s1 as string } },
      ),
      IncrementalMismatchError,
    );
  });

  test('invalid streams: garbage and a truncated stream; nothing is created', async () => {
    const parent = await backupParent('bk6');
    await assert.rejects(
      driver.receive({ target: `${parent}/g`, snapshotName: 's', expectedGuid: '1' }, Readable.from([randomBytes(256 * 1024)])),
      InvalidStreamError,
    );
    await assert.rejects(driver.receive({ target: `${parent}/e`, snapshotName: 's', expectedGuid: '1' }, Readable.from([])), InvalidStreamError);

    const { fs, guid } = await source('sr6');
    const whole: Buffer[] = [];
    const send = driver.send({ snapshot: `${fs}@s1` });
    for await (const chunk of send.stream) whole.push(chunk as Buffer);
    await send.done;
    const truncated = Buffer.concat(whole).subarray(0, 100 * 1024);
    await assert.rejects(
      driver.receive({ target: `${parent}/t`, snapshotName: 's1', expectedGuid: guid.s1 as string }, Readable.from([truncated])),
      InvalidStreamError,
    );
    assert.deepEqual(await listAll(parent), [parent]);
  });

  test('silent-misdirect hazard: an incremental into a missing target is refused before zfs runs', async () => {
    const { fs, guid } = await source('sr7');
    const parent = await backupParent('bk7');
    // Another dataset of the pool holds the base: zfs would apply the stream there (rc 0).
    await transfer({ snapshot: `${fs}@s1` }, { target: `${parent}/other`, snapshotName: 's1', expectedGuid: guid.s1 as string });
    const before = await poolState(ctx.pool.name);

    const wrapper = createZfsWrapper('recording');
    try {
      const guarded = new ZfsDriver({ zfsBin: wrapper.bin });
      const send = driver.send({ snapshot: `${fs}@s2`, from: `${fs}@s1` });
      await assert.rejects(
        guarded.receive(
          { target: `${parent}/missing`, snapshotName: 's2', expectedGuid: guid.s2 as string, incrementalBase: { guid: guid.s1 as string } },
          send.stream,
        ),
        (error: unknown) => {
          assert.ok(error instanceof DatasetNotFoundError, String(error));
          assert.match(error.message, /refusing incremental receive/);
          assert.equal(error.exitCode, undefined, 'no zfs recv ran');
          return true;
        },
      );
      await assertSendStopped(send);
      assertOnlyReads(wrapper.invocations(), ctx.pool.name);

      // The target exists but lacks the base: refused too.
      const send2 = driver.send({ snapshot: `${fs}@s3`, from: `${fs}@s2` });
      await assert.rejects(
        guarded.receive(
          { target: `${parent}/other`, snapshotName: 's3', expectedGuid: guid.s3 as string, incrementalBase: { guid: guid.s2 as string } },
          send2.stream,
        ),
        IncrementalSourceMissingError,
      );
      await assertSendStopped(send2);
      assertOnlyReads(wrapper.invocations(), ctx.pool.name);
    } finally {
      wrapper.cleanup();
    }
    assert.equal(await poolState(ctx.pool.name), before, 'no dataset changed');
    assert.equal(await datasetExists(`${parent}/missing`), false);
  });

  test('an already received snapshot is refused (re-receiving would silently do nothing)', async () => {
    const { fs, guid } = await source('sr8');
    const parent = await backupParent('bk8');
    const target = `${parent}/t`;
    await transfer({ snapshot: `${fs}@s1` }, { target, snapshotName: 's1', expectedGuid: guid.s1 as string });
    await transfer(
      { snapshot: `${fs}@s2`, from: `${fs}@s1` },
      { target, snapshotName: 's2', expectedGuid: guid.s2 as string, incrementalBase: { guid: guid.s1 as string } },
    );
    const send = driver.send({ snapshot: `${fs}@s2`, from: `${fs}@s1` });
    await assert.rejects(
      driver.receive({ target, snapshotName: 's2', expectedGuid: guid.s2 as string, incrementalBase: { guid: guid.s1 as string } }, send.stream),
      DestinationExistsError,
    );
    await assertSendStopped(send);
  });

  test('the exit code is not trusted: a failed mount after a landed receive still succeeds', async () => {
    const { fs, guid } = await source('sr9');
    const blocker = ctx.pool.scratch('not-a-directory');
    writeFileSync(blocker, 'x');
    const parent = await createDataset(ctx.pool.dataset('bk9'), {
      properties: { mountpoint: `${blocker}/sub`, canmount: 'off' },
    });
    const { logger, records } = memoryLogger();
    const logged = new ZfsDriver({ logger });
    const send = logged.send({ snapshot: `${fs}@s1` });
    const [result] = await Promise.all([
      logged.receive({ target: `${parent}/t`, snapshotName: 's1', expectedGuid: guid.s1 as string, unmounted: false }, send.stream),
      send.done,
    ]);
    assert.equal(result.version?.guid, guid.s1);
    const warning = records.find((r) => r.level === LEVEL.warn && /reported failure but the snapshot arrived/.test(String(r.msg)));
    assert.ok(warning, 'the zfs failure is logged');
    assert.equal(warning.exitCode, 1);
  });

  test('a stream that carries another snapshot than announced is not accepted', async () => {
    const { fs, guid } = await source('sr10');
    const parent = await backupParent('bk10');
    const send = driver.send({ snapshot: `${fs}@s1` });
    await assert.rejects(
      Promise.all([driver.receive({ target: `${parent}/t`, snapshotName: 's1', expectedGuid: guid.s2 as string }, send.stream), send.done]),
      (error: unknown) => {
        assert.equal((error as ZfsError).code, 'ZFS_RECEIVE_UNVERIFIED');
        return true;
      },
    );
  });

  test('an input that fails midway aborts the receive with that cause (source failure, not a bad stream)', async () => {
    const { fs, guid } = await source('sr12');
    const parent = await backupParent('bk12');
    const chunks: Buffer[] = [];
    const send = driver.send({ snapshot: `${fs}@s1` });
    for await (const chunk of send.stream) chunks.push(chunk as Buffer);
    await send.done;
    const whole = Buffer.concat(chunks);

    const failing = new Readable({ read() {} });
    failing.push(whole.subarray(0, 64 * 1024));
    setTimeout(() => failing.destroy(new Error('connection reset by peer')), 100);
    await assert.rejects(driver.receive({ target: `${parent}/t`, snapshotName: 's1', expectedGuid: guid.s1 as string }, failing), (error: unknown) => {
      assert.ok(error instanceof ZfsAbortedError, String(error));
      assert.match(error.message, /input stream failed: connection reset by peer/);
      assert.equal((error.cause as Error).message, 'connection reset by peer');
      return true;
    });

    const gone = Readable.from([whole]);
    gone.destroy();
    await assert.rejects(driver.receive({ target: `${parent}/t`, snapshotName: 's1', expectedGuid: guid.s1 as string }, gone), ZfsAbortedError);
    assert.deepEqual(await listAll(parent), [parent]);
  });

  test('unsupported options are refused before anything runs; supported ones reach zfs', async (t) => {
    const { fs, guid } = await source('sr11');
    const parent = await backupParent('bk11');
    const realZfs = (await run('sh', ['-c', 'command -v zfs'])).stdout.trim();
    const recording = createZfsWrapper('recording', realZfs);
    // A zfs that accepts -w -c -L -e (probes included): the supported path runs here too.
    const withFlags = createZfsWrapper('send-flags', realZfs);
    t.after(() => {
      recording.cleanup();
      withFlags.cleanup();
    });
    /** zfs send/receive runs that name a dataset of the pool: transfers, not probes or reads. */
    const transfers = (invocations: string[][]): string[] =>
      invocations
        .filter((argv) => ['send', 'receive', 'recv'].includes(argv[0] ?? '') && argv.some((arg) => arg.startsWith(`${ctx.pool.name}/`)))
        .map((argv) => argv.join(' '));
    const drained = async (send: { stream: Readable; done: Promise<void> }): Promise<void> => {
      send.stream.resume();
      await send.done;
    };

    const recorded = new ZfsDriver({ zfsBin: recording.bin });
    const caps = await recorded.capabilities(fs);

    // recv -o: refused before zfs receive runs, or passed to it.
    const target = `${parent}/t`;
    const send = driver.send({ snapshot: `${fs}@s1` });
    const receiving = recorded.receive({ target, snapshotName: 's1', expectedGuid: guid.s1 as string, properties: { mountpoint: 'none' } }, send.stream);
    if (caps.receiveProperties) {
      assert.equal((await receiving).version?.guid, guid.s1);
      await send.done;
      assert.deepEqual(transfers(recording.invocations()), [`receive -u -o mountpoint=none ${target}`]);
    } else {
      await assert.rejects(receiving, ZfsUnsupportedError);
      await assertSendStopped(send);
      assert.deepEqual(transfers(recording.invocations()), [], 'no zfs receive ran');
      assert.equal(await datasetExists(target), false);
    }

    // send -c and -e with the capabilities known: refused before zfs send runs, or passed to it.
    recording.clear();
    for (const [option, flag, supported, refusal] of [
      ['compressed', '-c', caps.sendCompressed, /compressed send \(-c\) is not supported here/],
      ['embedded', '-e', caps.sendEmbedded, /embedded-block send \(-e\) is not supported here/],
    ] as const) {
      const options = { snapshot: `${fs}@s1`, [option]: true };
      if (supported) {
        await drained(recorded.send(options));
        assert.deepEqual(transfers(recording.invocations()), [`send ${flag} ${fs}@s1`]);
      } else {
        assert.throws(
          () => recorded.send(options),
          (error: Error) => error instanceof ZfsUnsupportedError && refusal.test(error.message),
        );
        assert.deepEqual(transfers(recording.invocations()), [], `no zfs send ran for ${flag}`);
      }
      recording.clear();
    }
    if (!caps.sendCompressed) {
      // Without probed capabilities zfs itself rejects the flag: still a typed error.
      const unprobed = new ZfsDriver({ zfsBin: recording.bin });
      const attempt = unprobed.send({ snapshot: `${fs}@s1`, compressed: true });
      attempt.stream.resume();
      await assert.rejects(attempt.done, ZfsUnsupportedError);
    }

    // Where zfs has the flags they reach zfs send as asked, and the stream flows.
    const flagged = new ZfsDriver({ zfsBin: withFlags.bin });
    const flaggedCaps = await flagged.capabilities(fs);
    assert.equal(flaggedCaps.sendCompressed && flaggedCaps.sendEmbedded, true, 'the wrapper accepts -c and -e');
    withFlags.clear();
    await drained(flagged.send({ snapshot: `${fs}@s1`, compressed: true, embedded: true }));
    assert.deepEqual(transfers(withFlags.invocations()), [`send -c -e ${fs}@s1`]);
  });

  test('hostile names never reach zfs', async () => {
    const wrapper = createZfsWrapper('recording');
    try {
      const guarded = new ZfsDriver({ zfsBin: wrapper.bin, zpoolBin: wrapper.bin });
      const p = ctx.pool.name;
      const hostile = [
        '-R',
        '--help',
        `${p}/../x`,
        `${p}/a/./b`,
        `${p}//a`,
        `${p}/a/`,
        `${p}/a\nb`,
        `${p}/a\tb`,
        `${p}/a\u0000`,
        `${p}/$(id)`,
        `${p}/a;rm`,
        '',
      ];
      const attempts: Array<() => unknown> = [];
      for (const name of hostile) {
        attempts.push(
          () => guarded.listFilesystems(name),
          () => guarded.exists(name),
          () => guarded.listVersions(name),
          () => guarded.getProperties(name, ['guid']),
          () => guarded.snapshot([`${name}@s`]),
          () => guarded.destroySnapshots(name, ['s']),
          () => guarded.destroySnapshots(`${p}/ok`, [name]),
          () => guarded.destroy(name),
          () => guarded.rollback(`${name}@s`),
          () => guarded.hold('tag', [`${name}@s`]),
          () => guarded.release('tag', [`${name}@s`]),
          () => guarded.listHolds(`${name}@s`),
          () => guarded.setUserProperty(name, 'com.x:y', 'v'),
          () => guarded.inheritProperty(name, 'com.x:y'),
          () => guarded.rename(name, `${p}/ok`),
          () => guarded.rename(`${p}/ok`, name),
          () => guarded.create(name),
          () => guarded.capabilities(name),
          () => guarded.getResumeToken(name),
          () => guarded.send({ snapshot: `${name}@s` }),
          () => guarded.send({ snapshot: `${p}/ok@s`, from: name }),
          () => guarded.receive({ target: name, snapshotName: 's', expectedGuid: '1' }, Readable.from([])),
          () => guarded.receive({ target: `${p}/ok`, snapshotName: name, expectedGuid: '1' }, Readable.from([])),
        );
      }
      attempts.push(
        () => guarded.setUserProperty(`${p}/ok`, '-o', 'x'),
        () => guarded.getProperties(`${p}/ok`, ['guid,-H']),
        ...['-r', '--help', '', 'a\nb', 'a b', 'x;rm', 'x$(id)'].map((tag) => () => guarded.hold(tag, [`${p}/ok@s`])),
        ...['-r', 'a\tb'].map((tag) => () => guarded.release(tag, [`${p}/ok@s`])),
        () => guarded.receive({ target: `${p}/ok`, snapshotName: 's', expectedGuid: '-1' }, Readable.from([])),
        () => guarded.receive({ target: `${p}/ok`, snapshotName: 's', expectedGuid: '1', excludeProperties: ['-F'] }, Readable.from([])),
        () => guarded.send({ snapshot: `${p}/ok@s`, resumeToken: '-v' }),
      );
      for (const attempt of attempts) {
        await assert.rejects(async () => attempt(), InvalidNameError);
      }
      assert.deepEqual(wrapper.invocations(), [], 'nothing was executed');
    } finally {
      wrapper.cleanup();
    }
  });
});
