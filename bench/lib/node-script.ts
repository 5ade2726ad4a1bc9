/**
 * Spawning the bench's own helper programs both from sources (`node --import tsx x.ts`) and
 * compiled (`node dist/bench/lib/x.js`), following how this module itself was loaded.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fromSources = import.meta.url.endsWith('.ts');

/** The argv (after the node binary) that runs bench/lib/<name> with `args`. */
export function scriptArgv(name: string, args: readonly string[]): string[] {
  const script = fileURLToPath(new URL(`./${name}${fromSources ? '.ts' : '.js'}`, import.meta.url));
  return [...(fromSources ? ['--import', import.meta.resolve('tsx')] : []), script, ...args];
}

export function spawnScript(name: string, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, scriptArgv(name, args), { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Quote for /bin/sh. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function nodeShellCommand(name: string, args: readonly string[]): string {
  return [process.execPath, ...scriptArgv(name, args)].map(shellWord).join(' ');
}

/** Run a /bin/sh pipeline; its stderr carries the peers' reports. */
export function spawnShell(command: string): ChildProcess {
  return spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function waitExit(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) {
      if (child.exitCode === 0) resolve();
      else reject(new Error(`${what} exited with code ${child.exitCode}`));
      return;
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${what} exited with ${signal ?? `code ${String(code)}`}`));
    });
  });
}
