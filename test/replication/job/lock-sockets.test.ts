/** Asking a lock's holder who it is, when the holder is letting go at that moment. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { describeLock, lockNameOf } from '../../../replication/job/lock-sockets.js';

function listenOn(name: string, onConnection: (socket: net.Socket, server: net.Server) => void): Promise<net.Server> {
  const server = net.createServer((socket) => onConnection(socket, server));
  return new Promise((resolve) => server.listen({ path: `\0${name}` }, () => resolve(server)));
}

test('a holder that resets the question and lets go is found free, not an unknown holder', async () => {
  const name = lockNameOf(`test://${randomBytes(6).toString('hex')}`);
  await listenOn(name, (socket, server) => {
    // Letting go: the connection dropped unanswered, the name freed.
    socket.destroy();
    server.close();
  });
  assert.deepEqual(await describeLock(name), { state: 'free' });
});

test('a holder that keeps answering with nothing is unknown', async () => {
  const name = lockNameOf(`test://${randomBytes(6).toString('hex')}`);
  const server = await listenOn(name, (socket) => socket.end());
  try {
    assert.deepEqual(await describeLock(name), { state: 'unknown' });
  } finally {
    server.close();
  }
});
