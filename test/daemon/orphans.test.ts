/**
 * zfs processes a killed zferry left behind, on real zfs-fuse: a `zfs send -I` whose owner is
 * gone (its ZFERRY_OWNER mark names a dead process) and whose reader never reads is found,
 * ended with its process group, and the `.send-<pid>-0` holds it leaves are released; one whose
 * owner lives is left alone. A journalled send that died with its zferry gets its holds
 * released at the next start, once, and its journal entry goes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile as writeTextFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { OWNER_ENV, ownerMark, processStartTime } from '../../platform/process-owner.js';
import { ZfsDriver } from '../../replication/zfs/index.js';
import { endOrphanZfsProcesses, findOrphanZfsProcesses, rejoinSnapshotNames } from '../../daemon/orphans.js';
import { releaseLeftSendHolds } from '../../daemon/send-journal-file.js';
import { memoryLogger } from '../helpers/zfs-logger.js';
import { createDataset, snapshot, userrefsBelow, usePool, writeFile } from '../helpers/zfs-pool.js';

const MiB = 1024 * 1024;

/** The mark of a process that has exited. */
function deadMark(): string {
  const child = spawnSync('true');
  return `${child.pid ?? 999_999}:1`;
}

/** A `zfs send -I` marked as `owner`'s, in its own process group, blocked on a reader that never reads. */
function stuckSend(from: string, to: string, owner: string): { pid: number; close(): void } {
  const child = spawn('zfs', ['send', '-I', from, to], { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, [OWNER_ENV]: owner } });
  child.stdout.pause();
  if (child.pid === undefined) throw new Error('zfs send did not start');
  return { pid: child.pid, close: () => child.stdout.destroy() };
}

async function heldAtAll(root: string): Promise<string[]> {
  return Object.entries(await userrefsBelow(root))
    .filter(([, refs]) => refs > 0)
    .map(([name]) => name);
}

describe('left-over zfs processes', () => {
  const src = usePool({ sizeMiB: 256 });
  const logger = pino({ level: 'silent' });

  test("a stuck zfs send whose zferry is gone is ended and its holds released; a live zferry's is left alone", async () => {
    const data = await createDataset(src.pool.dataset('orphan'));
    await snapshot(`${data}@s0`);
    for (const name of ['s1', 's2']) {
      await writeFile(data, name, 16 * MiB);
      await snapshot(`${data}@${name}`);
    }
    const orphan = stuckSend(`${data}@s0`, `${data}@s2`, deadMark());
    const mine = stuckSend(`${data}@s0`, `${data}@s1`, ownerMark());
    try {
      // Both are holding their snapshots while they wait for their readers.
      for (let i = 0; i < 100 && (await heldAtAll(data)).length < 3; i++) await sleep(50);
      assert.deepEqual(await heldAtAll(data), [`${data}@s0`, `${data}@s1`, `${data}@s2`]);
      assert.deepEqual(
        findOrphanZfsProcesses().map((found) => found.pid),
        [orphan.pid],
        'only the send whose owner is gone is an orphan',
      );

      const recorded = memoryLogger('info');
      const ended = await endOrphanZfsProcesses({ logger: recorded.logger, driver: new ZfsDriver({ logger }), graceMs: 300 });
      assert.equal(ended, 1);
      assert.equal(processStartTime(orphan.pid), undefined, 'the orphan is gone');
      const messages = recorded.records.map((record) => record.msg);
      assert.ok(messages.includes('zfs process left by a zferry that is gone'));
      assert.ok(messages.includes('ended a left-over zfs process'));
      // The live one still holds what it sends (s0, s1), once; s2 was the orphan's alone.
      const refs = await userrefsBelow(data);
      assert.equal(refs[`${data}@s2`], 0, "the orphan's hold on s2 is released");
      assert.equal(refs[`${data}@s1`], 1);
      assert.equal(refs[`${data}@s0`], 1);
    } finally {
      orphan.close();
      process.kill(-mine.pid, 'SIGKILL');
      mine.close();
    }
  });

  test('the holds of a journalled send that died with its zferry are released at the next start', async () => {
    const data = await createDataset(src.pool.dataset('journal'));
    await snapshot(`${data}@s0`);
    await writeFile(data, 's1', 16 * MiB);
    await snapshot(`${data}@s1`);
    const send = stuckSend(`${data}@s0`, `${data}@s1`, ownerMark());
    for (let i = 0; i < 100 && (await heldAtAll(data)).length < 2; i++) await sleep(50);
    // Killed as a reset connection kills it: its holds stay.
    process.kill(send.pid, 'SIGKILL');
    send.close();
    await sleep(300);
    assert.deepEqual(await heldAtAll(data), [`${data}@s0`, `${data}@s1`], 'zfs-fuse leaves the killed send its holds');

    const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-sends-'));
    try {
      await writeTextFile(path.join(dir, String(send.pid)), JSON.stringify({ owner: deadMark(), args: ['send', '-I', `${data}@s0`, `${data}@s1`] }));
      await writeTextFile(path.join(dir, '1'), JSON.stringify({ owner: ownerMark(), args: ['send', `${data}@s1`] }));
      assert.equal(await releaseLeftSendHolds(dir, new ZfsDriver({ logger }), logger), 1);
      assert.deepEqual(await heldAtAll(data), []);
      assert.deepEqual(await readdir(dir), ['1'], "the entry of a live zferry's send stays");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test("zfs-fuse's split arguments are read back as the snapshot names they were", () => {
  assert.deepEqual(rejoinSnapshotNames(['zfs', 'send', '-I', 'tank/a', 's0', 'tank/a', 's2']), ['zfs', 'send', '-I', 'tank/a@s0', 'tank/a@s2']);
  assert.deepEqual(rejoinSnapshotNames(['zfs', 'send', 'tank/a@s1']), ['zfs', 'send', 'tank/a@s1']);
  assert.deepEqual(rejoinSnapshotNames(['zfs', 'receive', '-u', 'backup/a']), ['zfs', 'receive', '-u', 'backup/a']);
});
