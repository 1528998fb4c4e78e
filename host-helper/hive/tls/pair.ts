// The hive's certificate and key (`hive serve --tls-cert F --tls-key F`, PEM): read without following
// links, the key file only when it is ours and mode 0600 (as the admin token file), and checked as a
// pair by building the secure context Node will serve with. In: two paths; out: the PEM pair and what
// an operator needs to see in the log (subject, expiry, the pin agents may configure), or a one-line
// error that names the file and never its content.
import { X509Certificate } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { spkiPin } from '../../../src/hive/tls/policy.ts';
import { EXIT, HostError } from '../../exit-codes.ts';

const MAX_BYTES = 1024 * 1024;

export interface TlsPair {
  cert: string;
  key: string;
  /** For the log: never secret. */
  info: { subject: string; notAfter: string; pin: string };
}

async function readPem(file: string, what: string, secret: boolean): Promise<string> {
  try {
    const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new HostError(`${what} ${file}: not a regular file`, EXIT.usage);
      if (st.size > MAX_BYTES) throw new HostError(`${what} ${file}: larger than 1 MiB`, EXIT.usage);
      if (secret) {
        const uid = process.getuid?.() ?? st.uid;
        if (st.uid !== uid) throw new HostError(`${what} ${file}: must be owned by uid ${uid}`, EXIT.usage);
        if ((st.mode & 0o077) !== 0)
          throw new HostError(
            `${what} ${file}: readable or writable by group/others; chmod 600 it`,
            EXIT.usage,
          );
      }
      return await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof HostError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ELOOP' ? 'a symbolic link' : `cannot read (${code})`;
    throw new HostError(`${what} ${file}: ${why}`, EXIT.usage, { cause: err });
  }
}

/** Reads and checks the pair; throws a usage HostError that names the file at fault. */
export async function loadTlsPair(certFile: string, keyFile: string): Promise<TlsPair> {
  const [cert, key] = await Promise.all([
    readPem(certFile, '--tls-cert', false),
    readPem(keyFile, '--tls-key', true),
  ]);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new HostError(`--tls-cert ${certFile}: not a PEM certificate`, EXIT.usage, { cause: err });
  }
  try {
    // Fails on a key that does not belong to the certificate ("key values mismatch") or does not parse.
    createSecureContext({ cert, key });
  } catch (err) {
    const why = /mismatch/i.test(String((err as Error).message))
      ? 'does not match the certificate'
      : 'is not a usable PEM private key';
    throw new HostError(`--tls-key ${keyFile}: ${why}`, EXIT.usage, { cause: err });
  }
  return {
    cert,
    key,
    info: {
      subject: leaf.subject.replace(/\s+/g, ' '),
      notAfter: leaf.validToDate.toISOString(),
      pin: spkiPin(leaf),
    },
  };
}
