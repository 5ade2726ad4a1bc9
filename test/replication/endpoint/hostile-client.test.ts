/**
 * A hostile client against a served endpoint (issue 18, isolation): the endpoint contract served
 * by an RpcServer over a real unix socket, confined to `sink/A` for identity A, and a client
 * that is not zferry's job code: the RPC client with a contract of the same name whose requests
 * are anything at all, so the names below reach the server as written. For every call that takes
 * a name it tries names outside A's root, option-like names and tags, renames and rollbacks out
 * of the root, resume tokens naming other datasets. Every attempt is refused (by the contract on
 * the wire, or by the endpoint naming A), and nothing outside A's root changes: guids and
 * properties of the whole pool are compared before and after.
 *
 * Names the wire refuses never reach a handler, so the handlers are also called directly with
 * them: each refuses on its own, naming A and logging the refusal.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { z } from 'zod';
import { RpcServer, connect, defineContract, endpoint, type ConnectedClient, type EndpointMap } from '../../../rpc/index.js';
import { endpointContract } from '../../../replication/contract.js';
import { REPLICATION_RPC_LIMITS } from '../../../replication/endpoint/rpc-limits.js';
import { createZfsEndpoint } from '../../../replication/endpoint/zfs-endpoint.js';
import { ZfsDriver } from '../../../replication/zfs/index.js';
import { listenUnix, unixConnector, type UnixListener } from '../../../transport/unix.js';
import { encodeResumeToken, fullSendPairs } from '../../helpers/resume-token-encoder.js';
import { createDataset, snapshot, usePool, zfs } from '../../helpers/zfs-pool.js';

/** The endpoint contract's name and calls, with no checks on either side: whatever the test writes goes on the wire. */
const anything = z.unknown();
const looseContract = defineContract(
  endpointContract.name,
  Object.fromEntries<EndpointMap[string]>(
    Object.entries(endpointContract.endpoints).map(([name, def]) => [
      name,
      endpoint({ stream: def.stream, request: anything, response: anything, maxRequestBytes: def.maxRequestBytes }),
    ]),
  ),
);

type LooseCall = (req: unknown, streamOrOptions?: unknown) => Promise<unknown>;

/** Log lines the served endpoint wrote (pino JSON). */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), lines };
}

/**
 * Every dataset of the pool outside `root` with its guid and each property that a client could
 * change through the endpoint (user properties, mount settings, holds), as zfs reports them.
 */
async function stateOutside(pool: string, root: string): Promise<string[]> {
  const rows = (await zfs('get', '-H', '-p', '-r', '-o', 'name,property,value,source', 'all', pool)).split('\n').filter(Boolean);
  const kept = new Set(['guid', 'type', 'createtxg', 'mountpoint', 'canmount', 'readonly', 'userrefs', 'origin']);
  return rows
    .filter((row) => {
      const [name = '', property = ''] = row.split('\t');
      const filesystem = name.split(/[@#]/)[0] ?? name;
      return !(filesystem === root || filesystem.startsWith(`${root}/`)) && (kept.has(property) || property.includes(':'));
    })
    .sort();
}

describe('a hostile client of a served sink confined to sink/A (real socket, real zfs)', () => {
  const ctx = usePool({ sizeMiB: 128 });
  const { logger, lines } = capturingLogger();
  let dir: string;
  let listener: UnixListener;
  let server: RpcServer;
  let client: ConnectedClient<typeof looseContract>;
  let A: string;
  let B: string;
  let guidA: string;
  let guidB: string;
  let guidPool: string;

  before(async () => {
    const pool = ctx.pool.name;
    // Nothing mounted: zfs-fuse refuses to rename a mounted filesystem now and then.
    await createDataset(ctx.pool.dataset('sink'), { properties: { mountpoint: 'none' } });
    A = await createDataset(ctx.pool.dataset('sink/A'));
    B = await createDataset(ctx.pool.dataset('sink/B'));
    await createDataset(`${A}/x`);
    await createDataset(`${B}/x`);
    guidA = await snapshot(`${A}/x@s1`);
    await snapshot(`${A}/x@s2`);
    guidB = await snapshot(`${B}/x@s1`);
    await snapshot(`${B}/x@s2`);
    guidPool = await snapshot(`${pool}@s1`);
    await zfs('hold', 'keep_b', `${B}/x@s1`);
    await zfs('set', 'zferry:cursor.zferry_t=s1', `${B}/x`);

    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-hostile-'));
    server = new RpcServer({ logger, limits: REPLICATION_RPC_LIMITS });
    server.register(endpointContract, createZfsEndpoint({ driver: new ZfsDriver({ logger }), logger, roots: [A], identity: 'A' }));
    listener = await listenUnix({ path: path.join(dir, 'sink.sock'), mode: 0o600 }, (transport) => void server.serve(transport));
    client = await connect(await unixConnector({ path: path.join(dir, 'sink.sock') }).connect(), looseContract, { limits: REPLICATION_RPC_LIMITS });
  });

  after(async () => {
    await client?.close();
    await server?.close();
    await listener?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** Each attempt: which call, the request, and whether its names pass the contract (then the endpoint itself must refuse, naming A). */
  function attempts(): Array<{ call: string; req: unknown; reachesHandler: boolean }> {
    const pool = ctx.pool.name;
    const sink = ctx.pool.dataset('sink');
    // Names the contract accepts: only the root check can refuse them.
    const outsideFilesystems = [`${B}/x`, B, sink, pool, `${A}x`];
    const outsideSnapshots = [`${B}/x@s1`, `${pool}@s1`, `${sink}/Ax@s1`];
    // Names no handler should ever see: the wire refuses them, and the handler would too.
    const malformedFilesystems = [`../B/x`, `${A}/../B`, `${A}/..`, `-o`, `-R`, `${A}/-x`, `${A}//x`, `${A}/`, '', `${A}/x@s1`, `${A}/x#s1`];
    const malformedSnapshots = [`../B/x@s1`, `${A}/../B/x@s1`, `-o@s1`, `${A}/x@-F`, `${A}/x@s1@s2`, `${A}/x@s1/y`, `${A}/x@`, `@s1`, `${A}/x`];
    const fs = [...outsideFilesystems.map((name) => ({ name, ok: true })), ...malformedFilesystems.map((name) => ({ name, ok: false }))];
    const snaps = [...outsideSnapshots.map((name) => ({ name, ok: true })), ...malformedSnapshots.map((name) => ({ name, ok: false }))];
    const tags = ['-o', 'mountpoint', 'zferry:cursor.zferry_t', 'canmount=on', 'zferry_t,mountpoint'];
    const list: Array<{ call: string; req: unknown; reachesHandler: boolean }> = [];
    const add = (call: string, req: unknown, reachesHandler: boolean): void => void list.push({ call, req, reachesHandler });
    for (const { name, ok } of fs) {
      add('listVersionTree', { root: name, recursive: true }, ok);
      add('poolIdentity', { filesystem: name }, ok);
      add('abortPartialReceive', { filesystem: name }, ok);
      add('listVersions', { filesystem: name }, ok);
      add('receive', { target: name, snapshotName: 's9', expectedGuid: '1', force: true, resumable: false }, ok);
      add('ensureParent', { filesystem: `${name}/child` }, ok);
      add('ensureParent', { filesystem: name }, ok);
      add('listPruneTree', { root: name, recursive: true }, ok);
      add('destroySnapshots', { filesystem: name, snapshots: [{ name: 's1', guid: guidB }] }, ok);
      add('moveCursors', { tag: 'zferry_t', moves: [{ filesystem: name, snapshot: 's1' }] }, ok);
      add('moveCursors', { tag: 'zferry_t', moves: [{ filesystem: `${A}/x`, snapshot: 's1' }], root: name }, ok);
      add('rename', { from: `${A}/x`, to: name }, ok);
      add('rename', { from: name, to: `${A}/y` }, ok);
    }
    for (const { name, ok } of snaps) {
      add('snapshot', { snapshots: [name], recursive: false }, ok);
      add('snapshot', { snapshots: [`${A}/x@new`, name], recursive: true }, ok);
      add('estimateSend', { snapshot: name, intermediates: false }, ok);
      add('estimateSend', { snapshot: `${A}/x@s2`, from: name, intermediates: true }, ok);
      add('send', { snapshot: name, intermediates: false }, ok);
      add('send', { snapshot: `${A}/x@s2`, from: name, intermediates: false }, ok);
      add('verifyReceived', { snapshots: [`${A}/x@s1`, name] }, ok);
      add('rollback', { snapshot: name, expectedGuid: guidB }, ok);
    }
    for (const tag of tags) {
      add('listVersionTree', { root: A, recursive: true, cursorTag: tag }, false);
      add('listVersionTree', { root: A, recursive: true, formerCursorTags: [tag] }, false);
      add('moveCursors', { tag, moves: [{ filesystem: `${A}/x`, snapshot: 's1' }] }, false);
      add('moveCursors', { tag: 'zferry_t', formerTags: [tag], moves: [{ filesystem: `${A}/x`, snapshot: 's1' }] }, false);
    }
    // A snapshot name where the short name goes, and option-like short names.
    for (const short of ['-F', '../s1', 's1@s2', 's1/x']) {
      add('receive', { target: `${A}/new`, snapshotName: short, expectedGuid: '1', force: true, resumable: false }, false);
      add('moveCursors', { tag: 'zferry_t', moves: [{ filesystem: `${A}/x`, snapshot: short }] }, false);
      add('destroySnapshots', { filesystem: `${A}/x`, snapshots: [{ name: short, guid: guidA }] }, false);
    }
    // Resume tokens: one naming a snapshot of B, one pairing A's name with B's guid, one with the pool root's.
    add('send', { snapshot: `${A}/x@s1`, intermediates: false, resumeToken: encodeResumeToken(fullSendPairs(`${B}/x@s1`, guidB)) }, true);
    add('send', { snapshot: `${B}/x@s1`, intermediates: false, resumeToken: encodeResumeToken(fullSendPairs(`${B}/x@s1`, guidB)) }, true);
    add('send', { snapshot: `${A}/x@s1`, intermediates: false, resumeToken: encodeResumeToken(fullSendPairs(`${A}/x@s1`, guidB)) }, true);
    add('send', { snapshot: `${A}/x@s1`, intermediates: false, resumeToken: encodeResumeToken(fullSendPairs(`${A}/x@s1`, guidPool)) }, true);
    add('send', { snapshot: `${A}/x@s1`, intermediates: false, resumeToken: '-o' }, true);
    return list;
  }

  async function call(name: string, req: unknown): Promise<unknown> {
    const method = (client as unknown as Record<string, LooseCall>)[name];
    assert.ok(method, name);
    if (name === 'receive') return method(req, Readable.from([Buffer.alloc(4096)]));
    const result = await method(req);
    // A send that was not refused would stream: drain it (the test then fails on `result`).
    (result as { stream?: Readable }).stream?.resume();
    return result;
  }

  test('every attempt is refused, naming A where the endpoint refuses; nothing outside sink/A changes', async () => {
    const pool = ctx.pool.name;
    const before = await stateOutside(pool, A);
    const all = attempts();
    const refusedAt = { wire: 0, endpoint: 0 };
    for (const { call: name, req, reachesHandler } of all) {
      const what = `${name} ${JSON.stringify(req).slice(0, 300)}`;
      const error = await call(name, req).then(
        (result) => assert.fail(`not refused: ${what} → ${JSON.stringify(result)?.slice(0, 200)}`),
        (err: unknown) => err as { code?: string; remoteCode?: string; message: string },
      );
      if (error.code === 'RPC_INVALID_REQUEST') {
        assert.ok(!reachesHandler, `the contract refused a name it accepts? ${what}: ${error.message}`);
        refusedAt.wire += 1;
        continue;
      }
      assert.equal(error.code, 'RPC_REMOTE', `${what}: ${error.message}`);
      assert.match(error.remoteCode ?? '', /^ENDPOINT_(OUTSIDE_ROOT|RESUME_TOKEN_MISMATCH|RESUME_TOKEN_UNREADABLE)$/, `${what}: ${error.message}`);
      assert.match(error.message, /client 'A'/, `${what}: the refusal names the client`);
      refusedAt.endpoint += 1;
    }
    assert.equal(refusedAt.endpoint, all.filter((attempt) => attempt.reachesHandler).length, JSON.stringify(refusedAt));
    assert.deepEqual(await stateOutside(pool, A), before, 'nothing outside sink/A changed');
    // Each refusal by the endpoint was logged with the identity, the call and the name.
    const refusals = lines.filter((line) => line['level'] === 40 && line['identity'] === 'A');
    assert.equal(refusals.length, refusedAt.endpoint);
    assert.ok(refusals.every((line) => typeof line['call'] === 'string' && typeof line['name'] === 'string'));
  });

  test('what stays within sink/A still works over the same connection (the refusals are not a blanket no)', async () => {
    const listing = (await call('listVersionTree', { root: A, recursive: true })) as { filesystems: Array<{ name: string }> };
    assert.deepEqual(
      listing.filesystems.map((fs) => fs.name),
      [A, `${A}/x`],
    );
    await call('rename', { from: `${A}/x`, to: `${A}/x-aside` });
    await call('rename', { from: `${A}/x-aside`, to: `${A}/x` });
    await call('rollback', { snapshot: `${A}/x@s1`, expectedGuid: guidA });
    assert.deepEqual(
      ((await call('listVersions', { filesystem: `${A}/x` })) as { versions: Array<{ name: string }> }).versions.map((v) => v.name),
      ['s1'],
    );
  });

  test('the handlers refuse malformed and option-like names themselves, naming A, before zfs runs', async () => {
    const { logger: own, lines: logged } = capturingLogger();
    const calls: string[][] = [];
    const recording = new ZfsDriver({ logger: own });
    // Any zfs command would go through exec: record, and fail the test if one runs.
    const exec = (recording as unknown as { exec: { zfs: (args: string[]) => Promise<string>; run: (bin: string, args: string[]) => Promise<unknown> } }).exec;
    exec.zfs = (args: string[]) => {
      calls.push(args);
      return Promise.reject(new Error('zfs ran'));
    };
    exec.run = (_bin: string, args: string[]) => {
      calls.push(args);
      return Promise.reject(new Error('zfs ran'));
    };
    const implementation = createZfsEndpoint({ driver: recording, logger: own, roots: [A], identity: 'A' }) as unknown as Record<
      string,
      (req: unknown, a?: unknown, b?: unknown) => Promise<unknown>
    >;
    const signal = new AbortController().signal;
    let refused = 0;
    for (const { call: name, req, reachesHandler } of attempts()) {
      if (reachesHandler) continue;
      const handler = implementation[name];
      assert.ok(handler, name);
      const run = name === 'receive' ? handler(req, Readable.from([]), { signal }) : handler(req, { signal });
      await assert.rejects(run, (error: { code?: string; message: string }) => {
        assert.match(error.code ?? '', /^ENDPOINT_(OUTSIDE_ROOT|RESUME_TOKEN_UNREADABLE)$/, `${name} ${JSON.stringify(req)}: ${error.message}`);
        assert.match(error.message, /client 'A'/);
        return true;
      });
      refused += 1;
    }
    assert.ok(refused >= 100, String(refused));
    assert.deepEqual(calls, [], 'no zfs command ran');
    assert.equal(logged.filter((line) => line['identity'] === 'A').length, refused);
  });
});

describe('a pull client of a source serving only its filter (selects)', () => {
  const ctx = usePool({ sizeMiB: 96 });
  const { logger, lines } = capturingLogger();
  let src: string;
  let client: ConnectedClient<typeof looseContract>;
  let server: RpcServer;
  let listener: UnixListener;
  let dir: string;

  before(async () => {
    src = await createDataset(ctx.pool.dataset('src'), { properties: { mountpoint: 'none' } });
    for (const rel of ['a', 'a/b', 'a/c', 'secret']) await createDataset(`${src}/${rel}`);
    // A placeholder the filter selects: listings leave it out (it holds nothing to send).
    await createDataset(`${src}/ph`, { properties: { mountpoint: 'none', canmount: 'off', 'zferry:placeholder': 'on' } });
    await createDataset(`${src}/ph/real`);
    for (const rel of ['a', 'a/b', 'a/c', 'secret', 'ph/real']) await snapshot(`${src}/${rel}@s1`);
    const served = new Set([`${src}/a`, `${src}/a/b`, `${src}/ph`, `${src}/ph/real`]);
    dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-source-'));
    server = new RpcServer({ logger, limits: REPLICATION_RPC_LIMITS });
    server.register(
      endpointContract,
      createZfsEndpoint({ driver: new ZfsDriver({ logger }), logger, roots: [src], identity: 'puller', selects: (fs) => served.has(fs) }),
    );
    listener = await listenUnix({ path: path.join(dir, 'source.sock') }, (transport) => void server.serve(transport));
    client = await connect(await unixConnector({ path: path.join(dir, 'source.sock') }).connect(), looseContract, { limits: REPLICATION_RPC_LIMITS });
  });

  after(async () => {
    await client?.close();
    await server?.close();
    await listener?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const call = (name: string, req: unknown): Promise<unknown> =>
    (client as unknown as Record<string, LooseCall>)[name]?.(req) ?? Promise.reject(new Error(name));

  test('listings show exactly the selected filesystems, placeholders left out', async () => {
    const tree = (await call('listVersionTree', { root: src, recursive: true })) as { filesystems: Array<{ name: string }> };
    assert.deepEqual(
      tree.filesystems.map((fs) => fs.name),
      [`${src}/a`, `${src}/a/b`, `${src}/ph/real`],
    );
    const prune = (await call('listPruneTree', { root: src, recursive: true })) as { filesystems: Array<{ name: string }> };
    assert.deepEqual(
      prune.filesystems.map((fs) => fs.name),
      [`${src}/a`, `${src}/a/b`, `${src}/ph`, `${src}/ph/real`],
    );
  });

  test('sending, holding, pruning or snapshotting an unselected filesystem is refused, naming the client', async () => {
    const before = await stateOutside(ctx.pool.name, `${src}/a/b`);
    const refusedCalls: Array<[string, unknown]> = [
      ['send', { snapshot: `${src}/secret@s1`, intermediates: false }],
      ['send', { snapshot: `${src}/a/c@s1`, intermediates: false }],
      ['send', { snapshot: `${src}/a@s1`, intermediates: false, resumeToken: encodeResumeToken(fullSendPairs(`${src}/secret@s1`, '1')) }],
      ['estimateSend', { snapshot: `${src}/secret@s1`, intermediates: false }],
      ['listVersions', { filesystem: `${src}/secret` }],
      ['moveCursors', { tag: 'zferry_t', moves: [{ filesystem: `${src}/secret`, snapshot: 's1' }] }],
      ['destroySnapshots', { filesystem: `${src}/a/c`, snapshots: [{ name: 's1', guid: '1' }] }],
      ['snapshot', { snapshots: [`${src}/secret@s2`], recursive: false }],
      // Recursive from a selected filesystem, but it would reach a/c.
      ['snapshot', { snapshots: [`${src}/a@s2`], recursive: true }],
      ['rollback', { snapshot: `${src}/secret@s1`, expectedGuid: '1' }],
    ];
    for (const [name, req] of refusedCalls) {
      await assert.rejects(call(name, req), (error: { remoteCode?: string; message: string }) => {
        assert.equal(error.remoteCode, 'ENDPOINT_OUTSIDE_ROOT', `${name}: ${error.message}`);
        assert.match(error.message, /client 'puller' may not /);
        return true;
      });
    }
    assert.deepEqual(await stateOutside(ctx.pool.name, `${src}/a/b`), before);
    assert.ok(lines.filter((line) => line['identity'] === 'puller').length >= refusedCalls.length);
    // A selected one still sends.
    const sent = (await call('send', { snapshot: `${src}/a/b@s1`, intermediates: false })) as { stream: Readable };
    let bytes = 0;
    for await (const chunk of sent.stream) bytes += (chunk as Buffer).length;
    assert.ok(bytes > 0);
  });
});
