/**
 * The layering the house is built on (docs/architecture.md): cmd → daemon → config,
 * replication → rpc → transport → platform. A module may import from its own floor or any floor
 * below, never from one above, and the modules outside bench/ form no import cycle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Higher floors may import lower ones; config and replication share a floor but not each other. */
const FLOORS: Record<string, number> = { platform: 0, transport: 1, rpc: 2, replication: 3, config: 3, daemon: 4, cmd: 5 };
const SIBLINGS_APART = new Set(['config→replication', 'replication→config']);

function repositoryRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || existsSync(path.join(dir, '..', 'package.json'))) dir = path.dirname(dir);
  return dir;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? sourceFiles(full) : entry.endsWith('.ts') ? [full] : [];
  });
}

/** Relative imports of a module, resolved to repository-relative `.ts` paths. */
function importsOf(root: string, file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1] ?? '');
  return specifiers.map((spec) => path.relative(root, path.resolve(path.dirname(file), spec)).replace(/\.js$/, '.ts'));
}

const root = repositoryRoot();
const modules = new Map<string, string[]>();
for (const floor of Object.keys(FLOORS)) {
  for (const file of sourceFiles(path.join(root, floor))) modules.set(path.relative(root, file), importsOf(root, file));
}

test('the source tree has the floors it is checked against', () => {
  for (const floor of ['cmd', 'replication', 'rpc', 'transport', 'platform']) {
    assert.ok(
      [...modules.keys()].some((name) => name.startsWith(`${floor}/`)),
      `no modules found in ${floor}/`,
    );
  }
});

test('no module imports from a floor above its own', () => {
  const upward: string[] = [];
  for (const [name, imports] of modules) {
    const from = name.split('/')[0] ?? '';
    for (const target of imports) {
      const to = target.split('/')[0] ?? '';
      const toFloor = FLOORS[to];
      if (toFloor === undefined) {
        if (to !== from) upward.push(`${name} → ${target} (outside the floors)`);
        continue;
      }
      if (toFloor > (FLOORS[from] ?? -1) || SIBLINGS_APART.has(`${from}→${to}`)) upward.push(`${name} → ${target}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('modules outside bench/ import each other without cycles', () => {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      cycles.push([...trail.slice(trail.indexOf(name)), name].join(' → '));
      return;
    }
    state.set(name, 'visiting');
    for (const target of modules.get(name) ?? []) if (modules.has(target)) visit(target, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of modules.keys()) visit(name, []);
  assert.deepEqual(cycles, []);
});
