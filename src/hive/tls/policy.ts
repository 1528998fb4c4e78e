// How every program reaches the hive (DESIGN §5, issue 19), one place for the agent, clawdie-host's
// admin calls and the MCP bridge: which hive URLs may be used (https anywhere; plain http only on
// loopback, or where the operator said explicitly that the network is private), what a certificate
// pin is (SHA-256 of the certificate's SubjectPublicKeyInfo, as `sha256/BASE64`), and how a TLS
// refusal reads in one line. Pure: strings and certificates in, verdicts out.
import { createHash, type X509Certificate } from 'node:crypto';
import * as z from 'zod';

/** `sha256/` + base64 of 32 bytes: the form of HPKP's pin-sha256 and curl's --pinnedpubkey. */
const PIN_RE = /^sha256\/[A-Za-z0-9+/]{43}=$/;
const MAX_PINS = 8;

/** Splits a pin list ("sha256/A,sha256/B": two during a key rotation); null if any entry is malformed. */
export function parsePins(text: string): string[] | null {
  const pins = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (pins.length === 0 || pins.length > MAX_PINS || !pins.every((p) => PIN_RE.test(p))) return null;
  return pins;
}

/** A pin list as written in the `.env` or host.json: kept as text, checked here. */
export const HivePins = z
  .string()
  .max(1000, 'is too long')
  .refine(
    (s) => parsePins(s) !== null,
    `must be 1-${MAX_PINS} comma-separated pins of the form sha256/ followed by 44 base64 characters`,
  );

/** The explicit "this network is private" switch of the `.env` (anything else is refused). */
export const PrivateNetworkFlag = z.enum(['yes', 'true', '1'], {
  error: 'must be yes (or true, 1) when set',
});

/** The pin of a certificate: SHA-256 over the DER of its SubjectPublicKeyInfo. */
export function spkiPin(cert: X509Certificate): string {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256/${createHash('sha256').update(spki).digest('base64')}`;
}

/** Loopback only: 127.0.0.0/8, ::1 and localhost (a URL's hostname keeps IPv6 brackets). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export interface TransportSettings {
  url: string;
  /** Pins as written (comma-separated), if any. */
  pins?: string | undefined;
  /** The operator said the network between here and the hive is private. */
  privateNetwork?: boolean | undefined;
}

/** The names a caller's settings go by, so a refusal names the field the operator must change. */
export interface SettingNames {
  url: string;
  pins: string;
  privateNetwork: string;
}

export const ENV_SETTING_NAMES: SettingNames = {
  url: 'CLAWDIE_HIVE_URL',
  pins: 'CLAWDIE_HIVE_TLS_PIN',
  privateNetwork: 'CLAWDIE_HIVE_PRIVATE_NETWORK',
};

/**
 * Why these settings must not be used (the field and one line), or null. Plain http never carries
 * a pin (a pin that cannot be checked would be a silent fallback to plain text), and leaves
 * loopback only where the network is declared private.
 */
export function transportProblem(
  s: TransportSettings,
  names: SettingNames,
): { field: string; message: string } | null {
  let url: URL;
  try {
    url = new URL(s.url);
  } catch {
    return { field: names.url, message: 'must be an http(s) URL' };
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol !== 'http:') return { field: names.url, message: 'must be an http(s) URL' };
  if (s.pins !== undefined) return { field: names.pins, message: `is set, so ${names.url} must be https://` };
  if (isLoopbackHost(url.hostname) || s.privateNetwork === true) return null;
  return {
    field: names.url,
    message: `must be https:// unless the host is loopback or ${names.privateNetwork} says the network is private`,
  };
}

/** Node's and OpenSSL's codes for a certificate the client does not accept. */
const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export const PIN_MISMATCH = 'ERR_HIVE_TLS_PIN_MISMATCH';

/**
 * One line for a refused TLS connection to the hive, or null when `err` is not about TLS. The
 * refusal is final for that connection: the caller waits and tries again, never over plain text.
 */
export function tlsRefusal(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code === PIN_MISMATCH) return "the hive's public key matches no configured pin";
  if (CERT_CODES.has(code)) return `the hive's certificate is not trusted (${code})`;
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO' || code.startsWith('ERR_TLS_'))
    return `TLS handshake with the hive failed (${code})`;
  return null;
}
