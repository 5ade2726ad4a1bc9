/** The one error base class (platform/errors.ts), its helpers, and that every floor builds on it. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZferryError, errorCode, errorMessage, errorStack } from '../../platform/errors.js';
import { TransportError } from '../../transport/index.js';
import { RpcCancelledError, RpcError, RpcRemoteError } from '../../rpc/index.js';
import { DatasetNotFoundError, InvalidNameError, ZfsError } from '../../replication/zfs/index.js';
import { EndpointError, OutsideRootError } from '../../replication/endpoint/errors.js';
import { PlanArgumentError, PlanError } from '../../replication/planner/index.js';
import { ReplicationError, SourceNotFoundError } from '../../replication/job/errors.js';
import { UsageError } from '../../cmd/errors.js';

class ExampleError extends ZferryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EXAMPLE', message, options);
  }
}

describe('ZferryError', () => {
  test('sets code, message and the class name as name', () => {
    const error = new ExampleError('it broke');
    assert.ok(error instanceof Error);
    assert.equal(error.code, 'EXAMPLE');
    assert.equal(error.message, 'it broke');
    assert.equal(error.name, 'ExampleError');
  });

  test('keeps a cause, and has no cause property without one', () => {
    const cause = new Error('below');
    assert.equal(new ExampleError('x', { cause }).cause, cause);
    assert.equal(Object.hasOwn(new ExampleError('x'), 'cause'), false);
    assert.equal(Object.hasOwn(new ExampleError('x', { cause: undefined }), 'cause'), false);
  });

  test('every floor builds its errors on it, keeping their own lines and codes', () => {
    const cases: Array<[ZferryError, string, string, new (...args: never[]) => ZferryError]> = [
      [new TransportError('CONNECT_FAILED', 'm'), 'TransportError', 'CONNECT_FAILED', TransportError],
      [new RpcCancelledError(), 'RpcCancelledError', 'RPC_CANCELLED', RpcError],
      [new DatasetNotFoundError('m'), 'DatasetNotFoundError', 'ZFS_DATASET_NOT_FOUND', ZfsError],
      [new InvalidNameError('-x', 'why'), 'InvalidNameError', 'ZFS_INVALID_NAME', InvalidNameError],
      [new OutsideRootError('t/x', ['t/a']), 'OutsideRootError', 'ENDPOINT_OUTSIDE_ROOT', EndpointError],
      [new PlanError('DIVERGED', 'm', { source: 's', target: 't' }), 'PlanError', 'DIVERGED', PlanError],
      [new PlanArgumentError('m'), 'PlanArgumentError', 'INVALID_ARGUMENT', PlanArgumentError],
      [new SourceNotFoundError('t/a'), 'SourceNotFoundError', 'SOURCE_NOT_FOUND', ReplicationError],
      [new UsageError('m'), 'UsageError', 'USAGE', UsageError],
    ];
    for (const [error, name, code, family] of cases) {
      assert.ok(error instanceof ZferryError, name);
      assert.ok(error instanceof family, name);
      assert.equal(error.name, name);
      assert.equal(error.code, code, name);
    }
  });
});

describe('errorMessage, errorCode and errorStack', () => {
  test('read anything thrown', () => {
    const error = new ExampleError('it broke');
    assert.equal(errorMessage(error), 'it broke');
    assert.equal(errorMessage('plain'), 'plain');
    assert.equal(errorMessage(undefined), 'undefined');
    assert.equal(errorCode(error), 'EXAMPLE');
    assert.equal(errorCode(Object.assign(new Error('x'), { code: 'ENOENT' })), 'ENOENT');
    assert.equal(errorCode({ code: 7 }), undefined);
    assert.equal(errorCode(null), undefined);
    assert.equal(errorCode('ENOENT'), undefined);
    assert.match(errorStack(error), /^ExampleError: it broke\n\s+at /);
    assert.equal(errorStack(42), '42');
  });

  test('an RPC remote error keeps its own code; its remote code is on the side', () => {
    assert.equal(errorCode(new RpcRemoteError('m', { remoteCode: 'ZFS_DATASET_NOT_FOUND' })), 'RPC_REMOTE');
  });
});

/** The source floors and bench/, whose error classes all extend ZferryError. */
const SOURCE_DIRS = ['platform', 'transport', 'rpc', 'replication', 'config', 'daemon', 'cmd', 'bench'];

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? sourceFiles(full) : entry.endsWith('.ts') ? [full] : [];
  });
}

test('no error class outside platform/errors.ts extends a built-in error directly', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const direct: string[] = [];
  for (const file of SOURCE_DIRS.flatMap((dir) => sourceFiles(path.join(root, dir)))) {
    const relative = path.relative(root, file);
    if (relative === path.join('platform', 'errors.ts')) continue;
    for (const match of readFileSync(file, 'utf8').matchAll(/class\s+(\w+)\s+extends\s+(Error|TypeError|RangeError)\b/g)) {
      direct.push(`${relative}: ${match[1]} extends ${match[2]}`);
    }
  }
  assert.deepEqual(direct, []);
});
