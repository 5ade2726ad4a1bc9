/**
 * A control server in a child process (test/fixtures/control-server.ts), as a daemon would
 * serve it: for running the CLI's `status` and `signal` against, and for a daemon that dies
 * (SIGKILL) leaving its socket behind.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import type { RecordedSignal } from '../fixtures/control-status.js';
import { fixtureCommand } from '../fixtures/rpc-fixture-command.js';

export interface ControlFixture {
  readonly pid: number;
  /** The signals the server took so far, in order. */
  readonly signals: readonly RecordedSignal[];
  /** SIGTERM (closes the socket) or SIGKILL (leaves it behind, as a crash does); resolves on exit with the exit code. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
}

const running = new Set<ControlFixture>();
after(async () => {
  await Promise.all([...running].map((fixture) => fixture.stop('SIGKILL')));
});

/** Starts the server on `sockpath`; resolves once it listens. `statusFile`: a DaemonStatus (JSON) to serve instead of the sample. */
export async function startControlFixture(sockpath: string, options: { statusFile?: string } = {}): Promise<ControlFixture> {
  const { file, args } = fixtureCommand('control-server', [sockpath, ...(options.statusFile === undefined ? [] : ['--status', options.statusFile])]);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = once(child, 'exit').then(() => child.exitCode);
  const signals: RecordedSignal[] = [];
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      if (line === 'ready') resolve();
      else signals.push(JSON.parse(line) as RecordedSignal);
    });
  });
  const started = await Promise.race([ready.then(() => true), exited.then(() => false)]);
  if (!started) throw new Error(`the fixture control server did not start: ${stderr}`);
  const fixture: ControlFixture = {
    pid: child.pid!,
    signals,
    async stop(signal = 'SIGTERM') {
      running.delete(fixture);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  running.add(fixture);
  return fixture;
}
