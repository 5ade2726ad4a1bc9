/**
 * Throwaway certificate authorities for TLS tests, made with the `openssl` CLI in a temp dir:
 * a CA, a server certificate for localhost/127.0.0.1, client certificates with a chosen CN,
 * and a second, untrusted CA for "wrong client certificate" cases.
 *
 *   const ca = await createTestCa();
 *   listenTls({ host: '127.0.0.1', port: 0, ca: ca.caCert, ...ca.server }, ...);
 *   const alice = await ca.issueClient('alice');          // trusted
 *   const mallory = await ca.issueUntrustedClient('alice'); // same CN, other CA
 *   await ca.cleanup();
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';

const run = promisify(execFile);

export interface CertificatePair {
  cert: Buffer;
  key: Buffer;
  certPath: string;
  keyPath: string;
}

export interface TestCa {
  dir: string;
  /** The trusted CA certificate (PEM) and its path. */
  caCert: Buffer;
  caCertPath: string;
  /** Server certificate: CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1. */
  server: CertificatePair;
  /** A client certificate with CN=`commonName`, signed by the trusted CA. */
  issueClient(commonName: string): Promise<CertificatePair>;
  /** A client certificate with CN=`commonName`, signed by a different, untrusted CA. */
  issueUntrustedClient(commonName: string): Promise<CertificatePair>;
  /** A client certificate with CN=`commonName`, signed by the trusted CA, that expired yesterday. */
  issueExpiredClient(commonName: string): Promise<CertificatePair>;
  cleanup(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function createCa(dir: string, name: string, commonName: string): Promise<void> {
  await openssl(
    [
      'req',
      '-x509',
      ...KEY_ARGS,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

async function issue(dir: string, caName: string, name: string, commonName: string, extensions: string, days = 2): Promise<CertificatePair> {
  await writeFile(path.join(dir, `${name}.ext`), extensions);
  await openssl(['req', '-new', ...KEY_ARGS, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${commonName}`], dir);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${caName}.crt`,
      '-CAkey',
      `${caName}.key`,
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-out',
      `${name}.crt`,
      // -1: valid until a day before it was made (openssl 3.0 has no -not_after): expired.
      '-days',
      String(days),
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
  const certPath = path.join(dir, `${name}.crt`);
  const keyPath = path.join(dir, `${name}.key`);
  return { cert: await readFile(certPath), key: await readFile(keyPath), certPath, keyPath };
}

const CLIENT_EXT = 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n';
const SERVER_EXT = 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n';

export async function createTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zferry-tls-'));
  try {
    await Promise.all([createCa(dir, 'ca', 'zferry test CA'), createCa(dir, 'rogue-ca', 'zferry untrusted CA')]);
    const server = await issue(dir, 'ca', 'server', 'localhost', SERVER_EXT);
    const caCertPath = path.join(dir, 'ca.crt');
    let serial = 0;
    // Files are named by counter: a CN may contain characters unfit for file names.
    const issueWith = (caName: string) => (commonName: string) => issue(dir, caName, `client-${++serial}`, commonName, CLIENT_EXT);
    return {
      dir,
      caCert: await readFile(caCertPath),
      caCertPath,
      server,
      issueClient: issueWith('ca'),
      issueUntrustedClient: issueWith('rogue-ca'),
      issueExpiredClient: (commonName) => issue(dir, 'ca', `client-${++serial}`, commonName, CLIENT_EXT, -1),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
