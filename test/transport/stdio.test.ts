import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { ChildConnection } from '../../transport/index.js';
import { TransportError, childProcessConnector, stdioConnection } from '../../transport/index.js';
import { fixtureCommand } from '../fixtures/rpc-fixture-command.js';
import { readAll, writeAll } from '../fixtures/rpc-transport-check.js';

function spawnFixture(mode: string): Promise<ChildConnection> {
  const { file, args } = fixtureCommand('rpc-stdio-echo', [mode]);
  return childProcessConnector({ file, args }).connect() as Promise<ChildConnection>;
}

describe('stdio transport', () => {
  test('a child serving on its stdin/stdout echoes bytes exactly; stray stdout writes go to stderr', async () => {
    const child = await spawnFixture('echo');
    assert.equal(child.peer.transport, 'pipe');
    const sent = randomBytes(4 * 1024 * 1024 + 11);
    const [received] = await Promise.all([readAll(child.stream), writeAll(child.stream, sent)]);
    assert.ok(received.equals(sent), 'the echo is byte-exact: nothing else reached stdout');
    const exit = await child.exited;
    assert.equal(exit.exitCode, 0);
    assert.match(exit.stderr, /stray console\.log output/);
    assert.match(exit.stderr, /stray console\.info output/);
    assert.match(exit.stderr, /stray process\.stdout\.write output/);
  });

  test('closing the connection ends the child cleanly (EOF on its stdin)', async () => {
    const child = await spawnFixture('echo');
    child.stream.write('x');
    const [chunk] = (await child.stream.take(1).toArray()) as Buffer[];
    assert.equal(chunk?.toString(), 'x');
    child.close();
    const exit = await child.exited;
    assert.equal(exit.exitCode, 0, `exit: ${JSON.stringify({ ...exit, spawnError: undefined })}`);
    assert.equal(exit.closedByUs, true);
  });

  test('a child that exits non-zero fails the stream with its exit code and stderr', async () => {
    const child = await spawnFixture('fail');
    child.stream.resume();
    const err = await new Promise<unknown>((resolve) => child.stream.once('error', resolve));
    assert.ok(err instanceof TransportError);
    assert.equal(err.code, 'CHILD_FAILED');
    assert.match(err.message, /exit code 3/);
    assert.match(err.message, /failing on purpose/);
  });

  test('a command that cannot start fails with SPAWN_FAILED', async () => {
    const child = (await childProcessConnector({ file: '/nonexistent/zferry-serve', args: [] }).connect()) as ChildConnection;
    child.stream.resume();
    const err = await new Promise<unknown>((resolve) => child.stream.once('error', resolve));
    assert.ok(err instanceof TransportError);
    assert.equal(err.code, 'SPAWN_FAILED');
    assert.match(err.message, /ENOENT/);
  });

  test("guardStdout('throw') makes console.log throw instead of corrupting the channel", async () => {
    const child = await spawnFixture('guard-throw');
    const output = await readAll(child.stream);
    const exit = await child.exited;
    assert.equal(output.length, 0);
    assert.equal(exit.exitCode, 0);
    assert.match(exit.stderr, /guard-throw: stdout carries the RPC channel/);
  });

  test('stdioConnection over stand-in streams: EOF ends the read side, EPIPE ends the connection quietly', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const connection = stdioConnection({ input, output, guard: false });
    assert.deepEqual(connection.peer, { transport: 'stdio', name: 'stdio', detail: 'stdin/stdout' });
    input.end(Buffer.from('hello'));
    const received = await readAll(connection.stream);
    assert.equal(received.toString(), 'hello');
    connection.stream.write('reply');
    assert.equal(String(output.read()), 'reply');

    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    const closed = new Promise<void>((resolve) => connection.stream.once('close', () => resolve()));
    let streamError: unknown;
    connection.stream.once('error', (err) => {
      streamError = err;
    });
    output.destroy(epipe);
    await closed;
    assert.equal(streamError, undefined, 'EPIPE is the end of the connection, not an error');
  });
});
