/** The daemon's log outlets: a file outlet gets JSON lines (or human ones) at its own level, and child loggers' job and filesystem. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDaemonLogger } from '../../daemon/logger.js';

test('a JSON file outlet at its level, and a human one beside it', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-log-'));
  try {
    const json = path.join(dir, 'logs', 'zferry.json');
    const human = path.join(dir, 'zferry.log');
    const { logger, close } = await createDaemonLogger(
      [
        { type: 'file', level: 'warn', format: 'json', path: json },
        { type: 'file', level: 'debug', format: 'human', path: human },
      ],
      { tty: false },
    );
    const job = logger.child({ job: 'laptop' });
    job.child({ filesystem: 'tank/a' }).warn({ code: 'ZFS_DATASET_BUSY' }, 'filesystem failed');
    job.info('invocation started');
    job.debug('details');
    await close();
    const lines = (await readFile(json, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 1, 'only warn and above in the warn outlet');
    assert.equal(lines[0]?.['msg'], 'filesystem failed');
    assert.equal(lines[0]?.['job'], 'laptop');
    assert.equal(lines[0]?.['filesystem'], 'tank/a');
    const text = await readFile(human, 'utf8');
    assert.match(text, /filesystem failed/);
    assert.match(text, /invocation started/);
    assert.match(text, /details/);
    assert.doesNotMatch(text, /^\{/m, 'human lines, not JSON');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
