/**
 * Recorded `zfs`/`zpool` outputs under test/fixtures/zfs/. Found from the repository root, so
 * the same code works from the TypeScript sources and from the compiled dist/ tree (which
 * does not copy fixtures).
 */

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function repositoryRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'test', 'fixtures'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (package.json with test/fixtures)');
    dir = parent;
  }
}

export const ZFS_FIXTURES = path.join(repositoryRoot(), 'test', 'fixtures', 'zfs');

/** Text of a fixture file, e.g. `openzfs/zfs-get-versions.txt`. */
export function readZfsFixture(name: string): string {
  return readFileSync(path.join(ZFS_FIXTURES, name), 'utf8');
}

export function readZfsFixtureJson<T>(name: string): T {
  return JSON.parse(readZfsFixture(name)) as T;
}

export interface RecordedProbe {
  args: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RecordedStderr {
  source: string;
  command: string;
  exitCode: number;
  stderr: string;
  /** The ZfsError code the classifier must produce. */
  code: string;
}
