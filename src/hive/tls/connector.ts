// The socket factory every hive client connects through (undici's connector, wrapped): plain TCP
// for http:// (the URL rule in policy.ts decides where that is allowed), and for https:// a TLS
// connection trusted by (a) the runtime's CA store, (b) a CA file instead of it, and/or (c) a pin of
// the hive's public key. A pin alone trusts that key whatever signed it (a self-signed hive); a pin
// with a CA file needs both. A refused connection is an error (see tlsRefusal), never plain text.
import type { TLSSocket } from 'node:tls';
import type { buildConnector as BuildConnector } from 'undici';
import buildConnector from 'undici/lib/core/connect.js';
import { PIN_MISMATCH, parsePins, spkiPin } from './policy.ts';

export interface HiveTrust {
  /** PEM text of the CA certificate(s) that replace the runtime's store. */
  ca?: string | undefined;
  /** Accepted pins (policy.ts's parsePins); empty or absent: no pin check. */
  pins?: readonly string[] | undefined;
}

export type Connector = BuildConnector.connector;

/** A stable key for a trust: a pool made for one trust is not reused for another. */
export const trustKey = (t: HiveTrust | undefined): string =>
  t ? `${t.ca?.length ?? 0}:${t.ca?.slice(-64) ?? ''}|${(t.pins ?? []).join(',')}` : '';

/**
 * The agent's trust, read on every request: a fixed CA (from the soul layers, or none) and the pins
 * of the current `.env` (parsed again only when their text changes).
 */
export function trustReader(ca: string | undefined, pinText: () => string | undefined): () => HiveTrust {
  let text: string | undefined;
  let trust: HiveTrust = { ca };
  return () => {
    const now = pinText();
    if (now !== text) {
      text = now;
      trust = { ca, pins: now === undefined ? undefined : (parsePins(now) ?? undefined) };
    }
    return trust;
  };
}

class PinMismatchError extends Error {
  readonly code = PIN_MISMATCH;
}

export function hiveConnector(trust: HiveTrust = {}, timeoutMs = 5_000): Connector {
  const pins = trust.pins && trust.pins.length > 0 ? trust.pins : null;
  const connect = buildConnector({
    timeout: timeoutMs,
    // HTTP/1.1 only: the hive speaks nothing else, and h2 would load node:http2 for nothing.
    allowH2: false,
    ...(trust.ca !== undefined ? { ca: trust.ca } : {}),
    // A pin alone is the trust anchor (chain and name are not judged); otherwise the chain must verify.
    rejectUnauthorized: !(pins && trust.ca === undefined),
  });
  if (!pins) return connect;
  return (options, callback) =>
    connect(options, (err, socket) => {
      if (err || !socket || options.protocol !== 'https:') return callback(err as Error, socket as null);
      const cert = (socket as TLSSocket).getPeerX509Certificate();
      if (cert && pins.includes(spkiPin(cert))) return callback(null, socket);
      socket.destroy();
      callback(new PinMismatchError("the hive's public key matches no configured pin"), null);
    });
}
