/**
 * The raw baseline's two processes: a source writing 1 MiB buffers with backpressure and a
 * sink counting bytes, over plain sockets or stdin/stdout (pipes grown to 1 MiB, as zferry grows
 * its own). No framing, no RPC.
 *   raw-peer sink tcp HOST PORT | sink unix PATH | sink stdio
 *   raw-peer source tcp HOST PORT BYTES | source unix PATH BYTES | source stdio BYTES
 */
import net from 'node:net';
import { once } from 'node:events';
import { errorStack } from '../../platform/errors.js';
import { enlargePipe } from '../../platform/kernel-buffers.js';
import { countBytes, writeBulk } from './bulk.js';
import { cpuMsSince, now, report } from './report.js';

async function sink(args: string[]): Promise<void> {
  const [transport, a, b] = args;
  if (transport === 'stdio') {
    // Like for like: zferry's stdio transport grows its pipes too (kernel-buffers.ts).
    await enlargePipe(0);
    const cpu = process.cpuUsage();
    const bytes = await countBytes(process.stdin);
    report({ end: now(), bytes, receiverCpuMs: cpuMsSince(cpu) });
    return;
  }
  const server = net.createServer();
  if (transport === 'tcp') server.listen(Number(b), a);
  else if (transport === 'unix' && a !== undefined) server.listen(a);
  else throw new Error(`raw-peer sink: unknown transport ${String(transport)}`);
  await once(server, 'listening');
  const address = server.address();
  report({ listening: typeof address === 'string' || address === null ? address : address.port });
  const [socket] = (await once(server, 'connection')) as [net.Socket];
  server.close();
  const cpu = process.cpuUsage();
  const bytes = await countBytes(socket);
  report({ end: now(), bytes, receiverCpuMs: cpuMsSince(cpu) });
  socket.destroy();
}

async function source(args: string[]): Promise<void> {
  const [transport, a, b, c] = args;
  if (transport === 'stdio') {
    await enlargePipe(1);
    const total = Number(a);
    const cpu = process.cpuUsage();
    report({ start: now() });
    await writeBulk(process.stdout, total);
    report({ senderCpuMs: cpuMsSince(cpu) });
    return;
  }
  const socket = transport === 'tcp' ? net.connect({ host: a ?? '127.0.0.1', port: Number(b) }) : net.connect({ path: a ?? '' });
  const total = Number(transport === 'tcp' ? c : b);
  await once(socket, 'connect');
  socket.setNoDelay(true);
  const cpu = process.cpuUsage();
  report({ start: now() });
  await writeBulk(socket, total);
  report({ senderCpuMs: cpuMsSince(cpu) });
  socket.destroy();
}

const [role, ...rest] = process.argv.slice(2);
const run = role === 'sink' ? sink : role === 'source' ? source : undefined;
if (!run) {
  process.stderr.write('usage: raw-peer sink|source TRANSPORT ...\n');
  process.exit(2);
}
run(rest).catch((err: unknown) => {
  process.stderr.write(`raw-peer ${String(role)}: ${errorStack(err)}\n`);
  process.exit(1);
});
