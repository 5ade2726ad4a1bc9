/**
 * A separate process for the harness's own tests: creates a pool with the harness, reports
 * it on stdout as one JSON line, then behaves as `argv[2]` says:
 *  - `wait`: idles until a signal arrives;
 *  - `busy`: also starts a `zfs send` whose output nobody reads (the pool stays busy), idles;
 *  - `exit`: exits at once without destroying the pool;
 *  - `unavailable`: only checks ZFS availability and prints the error message.
 */
import { execa } from 'execa';
import { assertZfsAvailable, createDataset, createTestPool, snapshot, writeFile } from './zfs-pool.js';

const mode = process.argv[2] ?? 'wait';

if (mode === 'unavailable') {
  try {
    await assertZfsAvailable();
    process.stdout.write(`${JSON.stringify({ available: true })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ available: false, message: (error as Error).message })}\n`);
  }
} else {
  const pool = await createTestPool({ sizeMiB: 128 });
  if (mode === 'busy') {
    const fs = await createDataset(pool.dataset('data'));
    await writeFile(fs, 'big', 16 * 1024 * 1024);
    await snapshot(`${fs}@s`);
    // Never read: zfs send blocks on the full pipe and the daemon keeps the pool busy.
    const send = execa('zfs', ['send', `${fs}@s`], { buffer: false, reject: false, stdin: 'ignore' });
    send.stdout?.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  process.stdout.write(`${JSON.stringify({ pool: pool.name, dir: pool.dir })}\n`);
  if (mode === 'exit') process.exit(0);
  setInterval(() => undefined, 1000);
}
