/**
 * What a test that stops a transfer checks on ZFS itself: that a receive is under way, that
 * the target stopped growing, that every hold is one zferry's cursors account for (zfs-fuse's
 * leaked `.send-*` holds show up only as a higher `userrefs`: `zfs holds` does not work there),
 * and that replicas carry the source's guids.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { datasetExists, listSnapshots, zferryCursors, zfs } from './zfs-pool.js';

/** `used` of a dataset, in bytes. */
export async function usedBytes(dataset: string): Promise<number> {
  return Number((await zfs('get', '-H', '-p', '-o', 'value', 'used', dataset)).trim());
}

/** Resolves once `dataset` has grown by `bytes`; fails if `stillRunning` turns false first, or after `timeoutMs`. */
export async function growthOf(dataset: string, bytes: number, stillRunning: () => boolean, what: () => string, timeoutMs = 60_000): Promise<void> {
  const start = await usedBytes(dataset);
  const deadline = Date.now() + timeoutMs;
  while ((await usedBytes(dataset)) < start + bytes) {
    if (!stillRunning()) assert.fail(`ended before the receive was under way:\n${what()}`);
    if (Date.now() > deadline) assert.fail(`the receive never got under way:\n${what()}`);
    await sleep(40);
  }
}

/** `used` of `dataset`, sampled for 2 s from now: it must never exceed the first sample. */
export async function assertStoppedGrowing(dataset: string): Promise<void> {
  const samples = [await usedBytes(dataset)];
  for (let i = 0; i < 4; i++) {
    await sleep(500);
    samples.push(await usedBytes(dataset));
  }
  const first = samples[0] as number;
  assert.ok(
    samples.every((value) => value <= first),
    `the target kept growing: ${samples.map((value) => (value / 1024 / 1024).toFixed(1)).join(' -> ')} MiB`,
  );
}

/** Every snapshot of `filesystem` carries exactly the holds zferry's cursor properties set there account for. */
export async function assertOnlyZferryHolds(filesystem: string): Promise<void> {
  if (!(await datasetExists(filesystem))) return;
  const expected = new Map<string, number>();
  for (const { value, source } of (await zferryCursors(filesystem)).values()) {
    if (source !== 'local') continue;
    for (const name of value.split(',').filter(Boolean)) expected.set(name, (expected.get(name) ?? 0) + 1);
  }
  for (const line of (await zfs('get', '-H', '-p', '-o', 'name,value', 'userrefs', '-d', '1', filesystem)).split('\n')) {
    const [name, value] = line.split('\t');
    if (!name?.includes('@') || value === undefined) continue;
    const short = name.slice(name.indexOf('@') + 1);
    assert.equal(Number(value), expected.get(short) ?? 0, `${name}: userrefs ${value}, zferry's cursors account for ${expected.get(short) ?? 0}`);
  }
}

/** The target's snapshots are the source's oldest ones, with the same guids (the target stopped at a complete snapshot). */
export async function assertPrefixReplica(source: string, target: string): Promise<string[]> {
  const sent = (await listSnapshots(source)).map((s) => [s.name, s.guid]);
  const received = (await listSnapshots(target)).map((s) => [s.name, s.guid]);
  assert.deepEqual(received, sent.slice(0, received.length), `${target} holds a prefix of ${source}'s snapshots, by guid`);
  return received.map(([name]) => name as string);
}
