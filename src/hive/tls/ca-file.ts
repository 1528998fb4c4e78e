// The agent's CA file for the hive (DESIGN §4/§7): `hive-ca.pem` in the tenant soul layer, else in
// the image layer; never the agent's own (writable) layer, so nothing the agent runs can plant a CA.
// Refused when it is a link, not a regular file, too big, not PEM certificates, or changeable by the
// agent's user (only a warning when the agent runs as root, as for the soul layers). In: the layers
// and who runs the agent; out: the PEM text and where it came from, or null when there is none.
// I/O: synchronous (read once at boot; two small files at most).
import { X509Certificate } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SoulLayer } from '../../config/paths.ts';
import { ClawdieError } from '../../errors.ts';
import { controlledBy, type Principal } from '../../identity/writable.ts';

export const HIVE_CA_FILE = 'hive-ca.pem';
const MAX_BYTES = 256 * 1024;

export class HiveCaError extends ClawdieError {}

export interface HiveCa {
  pem: string;
  file: string;
  warnings: string[];
}

/** Every certificate of a PEM bundle parses (at least one); returns how many. */
export function countCertificates(pem: string): number {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  for (const b of blocks) new X509Certificate(b);
  return blocks.length;
}

export async function loadHiveCa(layers: readonly SoulLayer[], who: Principal): Promise<HiveCa | null> {
  // Highest precedence first: tenant over image (DESIGN §7); the agent layer is not read-only.
  for (const layer of [...layers].reverse()) {
    if (!layer.readOnly) continue;
    const file = path.join(layer.dir, HIVE_CA_FILE);
    let text: string;
    const warnings: string[] = [];
    try {
      const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        const st = fstatSync(fd);
        if (!st.isFile()) throw new HiveCaError(`hive CA file ${file} is not a regular file`);
        if (st.size > MAX_BYTES)
          throw new HiveCaError(`hive CA file ${file} is larger than ${MAX_BYTES} bytes`);
        if (controlledBy({ uid: st.uid, gid: st.gid, mode: st.mode }, who)) {
          const what = `hive CA file ${file} is writable by the agent's user`;
          if (who.uid !== 0) throw new HiveCaError(`${what}; it must be read-only to the agent`);
          warnings.push(`${what}; allowed only because the agent runs as root (development)`);
        }
        text = readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if (err instanceof HiveCaError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      if (code === 'ELOOP') throw new HiveCaError(`hive CA file ${file} is a symbolic link`, { cause: err });
      throw new HiveCaError(`hive CA file ${file} cannot be read (${code ?? 'error'})`, { cause: err });
    }
    let n: number;
    try {
      n = countCertificates(text);
    } catch (err) {
      throw new HiveCaError(`hive CA file ${file} holds a certificate that does not parse`, { cause: err });
    }
    if (n === 0) throw new HiveCaError(`hive CA file ${file} holds no PEM certificate`);
    return { pem: text, file, warnings };
  }
  return null;
}
