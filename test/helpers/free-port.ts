/**
 * A TCP port free on 127.0.0.1 right now (for a config that must name one). Not one the kernel
 * picks for port 0: those come from the ephemeral range, which every outgoing connection of the
 * suite running alongside also draws from, so one could take the port before the process the
 * config is for binds it. Ports below that range are drawn at random, each checked by binding,
 * and never handed out twice by one process.
 */
import net from 'node:net';
import { randomInt } from 'node:crypto';

/** Linux's ephemeral range starts at 32768 by default; below it only listeners that ask for a port live. */
const FIRST = 20_000;
const PAST_LAST = 32_768;
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = randomInt(FIRST, PAST_LAST);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port found between ${FIRST} and ${PAST_LAST - 1}`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
