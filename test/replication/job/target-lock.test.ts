/**
 * One writer per target: a run's lock on its target, held by real processes (a fixture that
 * takes the lock as another zferry would). A second taker waits, then fails naming the holder;
 * the lock is free the moment its holder dies, even by SIGKILL; a target above or below a held
 * one is busy too; unrelated targets never wait for each other.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { TargetBusyError } from '../../../replication/job/errors.js';
import { acquireTargetLock } from '../../../replication/job/target-lock.js';
import { fixtureCommand } from '../../fixtures/rpc-fixture-command.js';

/** A host name no other test (or zferry) on this machine locks under: abstract names are host-wide. */
const HOST = `lock-test-${process.pid}-${randomBytes(4).toString('hex')}`;
const at = (dataset: string): string => `local://${HOST}/${dataset}`;

interface LockHolderProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  /** The next line the fixture writes (`held`, `busy …`, `released`). */
  nextLine(): Promise<string>;
  send(line: string): void;
  /** Closes its stdin and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts the fixture taking the lock on `destination` for `job`; waits for its first word when `settled`. */
function startHolder(destination: string, job: string, waitMs = 0): LockHolderProcess {
  const { file, args } = fixtureCommand('hold-target-lock', [destination, job, String(waitMs)]);
  const child = spawn(file, args, { stdio: 'pipe' });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = once(child, 'exit');
  return {
    child,
    pid: child.pid ?? assert.fail('the fixture did not start'),
    async nextLine() {
      const next = await lines.next();
      return next.done ? '(exited)' : next.value;
    },
    send: (line) => child.stdin.write(`${line}\n`),
    async stop() {
      child.stdin.end();
      if (child.exitCode === null && child.signalCode === null) await exited;
    },
  };
}

/** A holder that has the lock. */
async function heldBy(destination: string, job: string): Promise<LockHolderProcess> {
  const holder = startHolder(destination, job);
  assert.equal(await holder.nextLine(), 'held', `the fixture took the lock on ${destination}`);
  return holder;
}

function busy(check: (error: TargetBusyError) => void): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof TargetBusyError, `a TargetBusyError, not ${String(error)}`);
    assert.equal(error.code, 'TARGET_BUSY');
    check(error);
    return true;
  };
}

describe('the target lock', { timeout: 120_000 }, () => {
  test('is taken, refused to a second taker in the same process, released, and taken again', async () => {
    const destination = at('pool/one');
    const lock = await acquireTargetLock({ destination, target: 'pool/one', job: 'first' });
    await assert.rejects(
      acquireTargetLock({ destination, target: 'pool/one', job: 'second', waitMs: 0 }),
      busy((error) => {
        assert.equal(error.holder?.pid, process.pid);
        assert.equal(error.holder?.job, 'first');
      }),
    );
    await lock.release();
    await lock.release();
    const again = await acquireTargetLock({ destination, job: 'second', waitMs: 0 });
    await again.release();
  });

  test("held by another process: a taker waits, then fails naming the holder's pid, job and start", async () => {
    const destination = at('backup/x');
    const holder = await heldBy(destination, 'nightly');
    try {
      let waited = false;
      await assert.rejects(
        acquireTargetLock({ destination, target: 'backup/x', job: 'other', waitMs: 300, onWait: () => (waited = true) }),
        busy((error) => {
          assert.equal(error.holder?.pid, holder.pid);
          assert.equal(error.relation, 'same');
          assert.match(
            error.message,
            new RegExp(
              `^backup/x is being replicated by another zferry \\(pid ${holder.pid}, job 'nightly', since (\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d:\\d\\d UTC, running hold-target-lock\\); try again when it is done$`,
            ),
          );
        }),
      );
      assert.ok(waited, 'the taker waited before failing');
    } finally {
      await holder.stop();
    }
  });

  test('a waiting taker gets the lock as soon as the holder lets go', async () => {
    const destination = at('backup/wait');
    const holder = await heldBy(destination, 'nightly');
    try {
      let waited = false;
      const onWait = (): void => {
        waited = true;
        holder.send('release');
      };
      const lock = await acquireTargetLock({ destination, job: 'patient', waitMs: 120_000, onWait });
      assert.ok(waited, 'the taker found the target busy first');
      assert.equal(await holder.nextLine(), 'released');
      await lock.release();
    } finally {
      await holder.stop();
    }
  });

  test('a wait stops with the signal', async () => {
    const destination = at('backup/abort');
    const holder = await heldBy(destination, 'nightly');
    try {
      const controller = new AbortController();
      await assert.rejects(
        acquireTargetLock({
          destination,
          job: 'impatient',
          waitMs: 120_000,
          signal: controller.signal,
          onWait: () => controller.abort(new Error('stop waiting')),
        }),
        { message: 'stop waiting' },
      );
    } finally {
      await holder.stop();
    }
  });

  test('a holder killed with SIGKILL frees the lock at once', async () => {
    const destination = at('backup/killed');
    const holder = await heldBy(destination, 'doomed');
    const exited = once(holder.child, 'exit');
    holder.child.kill('SIGKILL');
    await exited;
    const lock = await acquireTargetLock({ destination, job: 'survivor', waitMs: 0 });
    await lock.release();
  });

  test('a target above or below a held one is busy; siblings, other hosts and other schemes are not', async () => {
    const holder = await heldBy(at('backup/h'), 'tree');
    try {
      await assert.rejects(
        acquireTargetLock({ destination: at('backup/h/c'), target: 'backup/h/c', job: 'child', waitMs: 0 }),
        busy((error) => {
          assert.equal(error.relation, 'inside');
          assert.equal(error.holder?.pid, holder.pid);
          assert.match(error.message, /^backup\/h\/c lies inside backup\/h, which another zferry is replicating into \(pid \d+, job 'tree', /);
        }),
      );
      await assert.rejects(
        acquireTargetLock({ destination: at('backup/h/c/d'), job: 'grandchild', waitMs: 0 }),
        busy((error) => assert.equal(error.relation, 'inside')),
      );
      await assert.rejects(
        acquireTargetLock({ destination: at('backup'), target: 'backup', job: 'parent', waitMs: 0 }),
        busy((error) => {
          assert.equal(error.relation, 'contains');
          assert.match(error.message, /^backup contains backup\/h, which another zferry is replicating into \(pid \d+, /);
        }),
      );
      // Neither above nor below: a name that only starts alike, another host, the same path over ssh.
      for (const destination of [at('backup/hh'), at('backup/g'), `local://${HOST}-other/backup/h/c`, `ssh://root@${HOST}:22/backup/h/c`]) {
        const lock = await acquireTargetLock({ destination, job: 'unrelated', waitMs: 0 });
        await lock.release();
      }
    } finally {
      await holder.stop();
    }
  });

  test('different targets are held by different processes at once', async () => {
    const first = await heldBy(at('pool/a'), 'a');
    try {
      const second = await heldBy(at('pool/b'), 'b');
      await second.stop();
    } finally {
      await first.stop();
    }
  });

  test('two processes racing for targets one inside the other: never both hold', async () => {
    for (let round = 0; round < 8; round++) {
      const outer = startHolder(at(`race${round}/x`), 'outer');
      const inner = startHolder(at(`race${round}/x/c`), 'inner');
      try {
        const words = await Promise.all([outer.nextLine(), inner.nextLine()]);
        const held = words.filter((word) => word === 'held').length;
        assert.ok(held <= 1, `round ${round}: both took the lock (${words.join(' / ')})`);
        for (const word of words) assert.match(word, /^(held|busy .+)$/);
      } finally {
        await Promise.all([outer.stop(), inner.stop()]);
      }
    }
  });
});
