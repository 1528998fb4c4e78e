// Test support: a throw-away certificate authority made at test start (the `selfsigned` package,
// EC P-256 so it takes milliseconds), and server certificates it signs for 127.0.0.1 / localhost,
// written as PEM files (the key 0600) the way `hive serve --tls-cert/--tls-key` takes them.
import { X509Certificate } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { spkiPin } from '../../src/hive/tls/policy.ts';

export interface TestCa {
  cert: string;
  key: string;
}

export interface ServerPair {
  cert: string;
  key: string;
  /** The pin an agent would configure for this key (sha256/…). */
  pin: string;
}

const inOneDay = (): Date => new Date(Date.now() + 86_400_000);

export async function makeTestCa(name = 'clawdie test CA'): Promise<TestCa> {
  const r = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: inOneDay(),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return { cert: r.cert, key: r.private };
}

/** A server certificate for 127.0.0.1 and localhost: signed by `ca`, or self-signed without one. */
export async function makeServerPair(ca?: TestCa, cn = '127.0.0.1'): Promise<ServerPair> {
  const r = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: inOneDay(),
    ...(ca ? { ca: { cert: ca.cert, key: ca.key } } : {}),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { cert: r.cert, key: r.private, pin: spkiPin(new X509Certificate(r.cert)) };
}

/** Writes the pair as cert.pem and key.pem (0600) under `dir` (or with a prefix); returns the paths. */
export function writePair(dir: string, pair: ServerPair, prefix = ''): { cert: string; key: string } {
  const cert = join(dir, `${prefix}cert.pem`);
  const key = join(dir, `${prefix}key.pem`);
  writeFileSync(cert, pair.cert);
  writeFileSync(key, pair.key, { mode: 0o600 });
  chmodSync(key, 0o600);
  return { cert, key };
}
