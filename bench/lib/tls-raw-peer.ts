/**
 * bench:tls's baseline: one end of a raw Node TLS socket pair carrying a `zfs send` stream into
 * `zfs recv`, with no zferry framing. Two processes, as zferry's client and sink are:
 *
 *   tls-raw-peer recv CA CERT KEY TARGET   listens on 127.0.0.1 (a free port, printed on stdout as
 *                                          `listening PORT`), takes one mutual-TLS client, pipes it
 *                                          into `zfs recv -u TARGET`, prints `received BYTES CIPHER`
 *                                          and exits with zfs recv's code
 *   tls-raw-peer send CA CERT KEY PORT SNAPSHOT
 *                                          connects (server name localhost), pipes `zfs send SNAPSHOT`
 *                                          into the socket, ends it, exits once the server closed
 *
 * Mutual TLS as zferry's transport sets it up: TLS 1.3 at least, the CA's certificates both ways.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tls from 'node:tls';

function exitCodeOf(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
}

async function receive(context: tls.SecureContextOptions, target: string): Promise<number> {
  const server = tls.createServer({ ...context, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' });
  const connected = new Promise<tls.TLSSocket>((resolve) => server.once('secureConnection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
  const socket = await connected;
  server.close();
  const cipher = socket.getCipher();
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
  const recv = spawn('zfs', ['recv', '-u', target], { stdio: ['pipe', 'inherit', 'inherit'] });
  const code = exitCodeOf(recv);
  await pipeline(socket, recv.stdin);
  const exitCode = await code;
  process.stdout.write(`received ${bytes} ${cipher.standardName}\n`);
  socket.end();
  return exitCode;
}

async function send(context: tls.SecureContextOptions, port: number, snapshot: string): Promise<number> {
  const socket = tls.connect({ ...context, host: '127.0.0.1', port, servername: 'localhost', minVersion: 'TLSv1.3' });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  const zfsSend = spawn('zfs', ['send', snapshot], { stdio: ['ignore', 'pipe', 'inherit'] });
  const code = exitCodeOf(zfsSend);
  await pipeline(zfsSend.stdout, socket);
  return code;
}

async function main(argv: readonly string[]): Promise<number> {
  const [mode, caPath, certPath, keyPath, ...rest] = argv;
  if (caPath === undefined || certPath === undefined || keyPath === undefined) throw new Error(`usage: tls-raw-peer recv|send CA CERT KEY ...`);
  const context = { ca: readFileSync(caPath), cert: readFileSync(certPath), key: readFileSync(keyPath) };
  if (mode === 'recv' && rest.length === 1) return receive(context, rest[0] ?? '');
  if (mode === 'send' && rest.length === 2) return send(context, Number(rest[0]), rest[1] ?? '');
  throw new Error(`tls-raw-peer: unknown mode or arguments: ${argv.join(' ')}`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`tls-raw-peer: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
